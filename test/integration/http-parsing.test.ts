import net from 'node:net';
import type { HttpEngineName } from '../../src/http/http-engines';
import { ENGINES } from '../support/engines';
import { serviceOn, type RunningService } from '../support/service';

/** Requests at the edge of HTTP/1.1 that each engine parses its own way (README "HTTP parsing, per engine"). */
const EDGE_CASES: Record<string, string> = {
  'HTTP/1.0': 'GET /health HTTP/1.0\r\n\r\n',
  'Content-Length with Transfer-Encoding': 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  // If the first value wins, the 5-byte body "hello" is the POST's and the GET after it is served.
  'two different Content-Length': 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhelloGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
  'a malformed request line': 'GET  /health HTTP/1.1 x\r\nHost: x\r\n\r\n',
  'HTTP/1.1 without Host': 'GET /health HTTP/1.1\r\n\r\n',
  'TLS sent to the plain port': '\x16\x03\x01 not http at all\r\n\r\n',
  'an unknown method': 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n',
  'an 8 KiB header': `GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'b'.repeat(8 * 1024)}\r\n\r\n`,
  'a 512 KiB header': `GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'b'.repeat(512 * 1024)}\r\n\r\n`,
  '200 headers': `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 200 }, (_, i) => `X-Header-${i}: v\r\n`).join('')}\r\n`,
  'a 20 KiB header': `GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'b'.repeat(20 * 1024)}\r\n\r\n`,
  '60 headers': `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 60 }, (_, i) => `X-Header-${i}: v\r\n`).join('')}\r\n`,
};

/** The statuses each engine answers an edge case with, in order ('none': no answer). */
const HTTP_PARSING: Record<HttpEngineName, Record<string, string>> = {
  'uws-20.57': {
    'TLS sent to the plain port': '505',
    'an unknown method': '405',
    'an 8 KiB header': '431',
    'a 512 KiB header': '431',
    '200 headers': '431',
    'HTTP/1.0': '505',
    'Content-Length with Transfer-Encoding': '400',
    'two different Content-Length': '405,200',
    'a malformed request line': '505',
    'HTTP/1.1 without Host': '400',
    'a 20 KiB header': '431',
    '60 headers': '200',
  },
  'uws-20.30': {
    'TLS sent to the plain port': 'none',
    'an unknown method': 'none',
    'an 8 KiB header': '200',
    'a 512 KiB header': 'none',
    '200 headers': 'none',
    'HTTP/1.0': 'none',
    'Content-Length with Transfer-Encoding': 'none',
    'two different Content-Length': '405,200',
    'a malformed request line': 'none',
    'HTTP/1.1 without Host': 'none',
    'a 20 KiB header': '200',
    '60 headers': 'none',
  },
  node: {
    'TLS sent to the plain port': '400',
    'an unknown method': '400',
    'an 8 KiB header': '200',
    'a 512 KiB header': '431',
    '200 headers': '200',
    'HTTP/1.0': '200',
    'Content-Length with Transfer-Encoding': '400',
    'two different Content-Length': '400',
    'a malformed request line': '400',
    'HTTP/1.1 without Host': '400',
    'a 20 KiB header': '431',
    '60 headers': '200',
  },
};

/** What came back within `waitMs`, or before the server closed the connection. */
function rawRequestWithin(port: number, text: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', () => undefined);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? NaN);

async function withService(engine: HttpEngineName, body: (service: RunningService) => Promise<void>): Promise<void> {
  const service = await serviceOn(engine)({ SOURCES: 'app', METRICS_RATE_LIMIT: '0' });
  try {
    await body(service);
  } finally {
    await service.stop();
  }
}

describe.each(ENGINES)('HTTP parsing on the %s engine', (engine) => {
  const parsing = HTTP_PARSING[engine];
  it.each(Object.keys(parsing))('answers %s as the README\'s "HTTP parsing, per engine" says', (edgeCase) =>
    withService(engine, async (service) => {
      const answer = await rawRequestWithin(service.port, EDGE_CASES[edgeCase]!, 1500);
      expect({ edgeCase, statuses: answer.split(/(?=HTTP\/1\.[01] \d{3} )/).map(statusOf).filter((status) => !Number.isNaN(status)).join(',') || 'none' }).toEqual({ edgeCase, statuses: parsing[edgeCase] });
    }));
});
