import type * as uws from 'uWebSockets.js';
import { bodyBytes, REPLY_HEADERS, type ResponseChannel } from './exchange';
import type { HttpReply } from './route-table';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  414: '414 URI Too Long',
  426: '426 Upgrade Required',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** Replies up to this many characters are ended in one call; larger ones respect backpressure. */
const SMALL_BODY_CHARS = 16 * 1024;

/**
 * A uWS response as an Exchange writes it. uWS wants onAborted only for a response that outlives
 * its request callback; once aborted, the response is invalid and cannot even be corked.
 */
export class UwsResponse implements ResponseChannel {
  private aborted = false;

  constructor(private readonly res: uws.HttpResponse) {}

  onAborted(aborted: () => void): void {
    this.res.onAborted(() => {
      this.aborted = true;
      aborted();
    });
  }

  later(write: () => void): void {
    this.res.cork(write);
  }

  destroy(): void {
    this.res.close();
  }

  write(reply: HttpReply, head: boolean, drained: () => void): boolean {
    const res = this.res;
    res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
    for (const name in REPLY_HEADERS) res.writeHeader(name, REPLY_HEADERS[name]!);
    for (const name in reply.headers) res.writeHeader(name, reply.headers[name]);
    if (head) {
      // endWithoutBody(length) of uWS 20.30 leaves the response open (and uWS then aborts the
      // process): the length goes in as a header, and the response ends without one of uWS's.
      res.writeHeader('Content-Length', String(bodyBytes(reply.body)));
      res.endWithoutBody();
      return true;
    }
    // A small string goes to uWS as it is (uWS copies what the socket cannot take yet): no Buffer per reply.
    if (typeof reply.body === 'string' && reply.body.length <= SMALL_BODY_CHARS) {
      res.end(reply.body);
      return true;
    }
    // Buffer.from(string) allocates three bytes per character, then copies: measure, then write.
    const body = typeof reply.body === 'string' ? encode(reply.body) : reply.body;
    const total = body.byteLength;
    const startOffset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, total);
    if (ok || done) return true;
    // The socket is full: send the rest as the client drains it, instead of buffering it all.
    res.onWritable((offset) => {
      if (this.aborted) return true;
      const [sent, ended] = res.tryEnd(body.subarray(offset - startOffset), total);
      if (sent || ended) drained();
      return sent;
    });
    return false;
  }
}

function encode(text: string): Buffer {
  const buffer = Buffer.allocUnsafe(Buffer.byteLength(text));
  buffer.write(text);
  return buffer;
}
