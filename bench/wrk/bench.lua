-- wrk script of the bench. Always: done() prints the run as one JSON line (prefix WRK_JSON),
-- latencies in microseconds. With WRK_REQUESTS_FILE set ("METHOD /path" per line), each
-- connection cycles through those requests (its own starting offset); with WRK_DELAY_MS set, a
-- connection waits that long before each request, which caps the rate at
-- connections * 1000 / WRK_DELAY_MS requests per second (steady background traffic).
-- Both are read at load time, so without them wrk keeps its static, pre-formatted request.

local requests_file = os.getenv("WRK_REQUESTS_FILE")
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")

if requests_file and requests_file ~= "" then
  local requests = {}
  local next_index = 0
  -- Formatted in init(), once wrk has set the Host header from the URL.
  function init(args)
    for line in io.lines(requests_file) do
      local method, path = line:match("^(%u+)%s+(%S+)$")
      if method then requests[#requests + 1] = wrk.format(method, path) end
    end
    next_index = math.random(#requests)
  end
  function request()
    next_index = next_index % #requests + 1
    return requests[next_index]
  end
end

if delay_ms and delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"non2xx":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
