import { performance } from 'node:perf_hooks';
import type * as uws from 'uWebSockets.js';
import { errorText } from '../error-text';
import type { Logger } from '../logger';
import type { RouteRecorder } from '../metrics/http-request-metrics';
import type { HttpReply, HttpRequest } from './route-table';
import { isUpgrade, type WebSocketUpgrade } from './websocket-route';

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

const INTERNAL_ERROR: HttpReply = { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal error\n' };

/** Replies up to this many characters are ended in one call; larger ones respect backpressure. */
const SMALL_BODY_CHARS = 16 * 1024;

/** A route's handler as the server runs it: a reply now or later, or (WebSocket routes only) an accepted upgrade. */
export type ExchangeHandler = (request: HttpRequest) => HttpReply | WebSocketUpgrade | Promise<HttpReply>;

/**
 * Where a response stands. uWS wants onAborted only for a response that outlives its request
 * callback (registering one costs a persistent handle): it is registered on entering `awaiting`
 * or `draining`, whichever comes first.
 */
type Phase =
  /** The handler runs inside the request callback. */
  | 'handling'
  /** The handler's promise is pending. */
  | 'awaiting'
  /** Answered; the rest of the body waits on onWritable. */
  | 'draining'
  | 'done'
  /** The client went away: uWS has invalidated the response, it cannot even be corked. */
  | 'aborted';

/**
 * One request, from its handler to the last byte of its reply. No exception leaves it into uWS,
 * and none is lost: a handler that throws, rejects or gives something that is not a reply is
 * answered 500 and logged once. Its duration and outcome are recorded against the route.
 */
export class Exchange {
  private phase: Phase = 'handling';
  private readonly startedMs = performance.now();
  /** The reply's `released`, until uWS holds no more of its body. */
  private release?: () => void;

  constructor(
    private readonly res: uws.HttpResponse,
    private readonly method: string,
    private readonly recorder: RouteRecorder,
    private readonly logger: Logger,
    /** Carries out an accepted WebSocket upgrade; only WebSocket routes pass one. */
    private readonly upgrade?: (accepted: WebSocketUpgrade) => void,
  ) {
    recorder.begin(method);
  }

  /** Runs the handler and answers with what it gives, now or once its promise settles. */
  run(handler: ExchangeHandler, request: HttpRequest): void {
    let outcome: unknown;
    try {
      outcome = handler(request);
    } catch (error) {
      outcome = this.failed(`threw: ${errorText(error)}`);
    }
    // Still inside the request callback: uWS has corked the socket already.
    if (!(outcome instanceof Promise)) return this.answer(outcome);
    this.phase = 'awaiting';
    this.watchAbort(); // before the first await
    void outcome.then(
      (settled: unknown) => this.answerLater(settled),
      (error: unknown) => this.answerLater(this.failed(`failed: ${errorText(error)}`)),
    );
  }

  /** Writes the handler's outcome, or a 500 when it is not a reply, and records the request. */
  answer(outcome: unknown): void {
    // The handler's body goes back to it whatever becomes of the reply.
    this.release = releaseHookOf(outcome);
    if (this.phase === 'aborted') return this.releaseBody();
    const problem = replyProblem(outcome, this.upgrade !== undefined);
    const reply = problem === undefined ? (outcome as HttpReply | WebSocketUpgrade) : this.failed(problem);
    this.phase = this.send(reply);
    this.recorder.end(this.method, reply.status, (performance.now() - this.startedMs) / 1000);
  }

  /** Writes after the request callback: corked, so the reply leaves in one go (unless uWS has invalidated it). */
  private answerLater(outcome: unknown): void {
    if (this.phase === 'aborted') this.answer(outcome);
    else this.res.cork(() => this.answer(outcome));
  }

  private failed(why: string): HttpReply {
    this.logger.error(`handler for ${this.recorder.endpoint} ${why}`);
    return INTERNAL_ERROR;
  }

  private watchAbort(): void {
    this.res.onAborted(() => {
      if (this.phase === 'awaiting') this.recorder.abort(this.method); // An answered request is counted already.
      this.phase = 'aborted';
      this.releaseBody();
    });
  }

  /** Carries out the upgrade or writes the reply; the phase the response is in afterwards. */
  private send(reply: HttpReply | WebSocketUpgrade): Phase {
    try {
      if (isUpgrade(reply)) {
        this.upgrade?.(reply);
        return 'done';
      }
      if (this.write(reply)) {
        this.releaseBody();
        return 'done';
      }
      if (this.phase === 'handling') this.watchAbort();
      return 'draining';
    } catch (error) {
      this.logger.error(`writing a ${reply.status} reply for ${this.recorder.endpoint} failed: ${errorText(error)}`);
      // A half-written reply cannot be finished, and uWS aborts the process if it is left open.
      this.res.close();
      this.releaseBody();
      return 'done';
    }
  }

  /** Writes the reply; false when the rest of the body waits on onWritable. */
  private write(reply: HttpReply): boolean {
    const res = this.res;
    res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
    for (const name in reply.headers) res.writeHeader(name, reply.headers[name]);
    if (this.method === 'HEAD') {
      // endWithoutBody(length) of uWS 20.30 leaves the response open (and uWS then aborts the
      // process): the length goes in as a header, and the response ends without one of uWS's.
      res.writeHeader('Content-Length', String(typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength));
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
      if (this.phase === 'aborted') return true;
      const [sent, ended] = res.tryEnd(body.subarray(offset - startOffset), total);
      if (sent || ended) {
        this.phase = 'done';
        this.releaseBody();
      }
      return sent;
    });
    return false;
  }

  /** Tells the body's owner, once, that uWS holds no more of it. */
  private releaseBody(): void {
    const release = this.release;
    this.release = undefined;
    if (release) runLogged(this.logger, 'releasing a reply body', release);
  }
}

/** Runs a callback from within a uWS callback: its exception is logged, never thrown into uWS. */
export function runLogged(logger: Logger, what: string, callback: () => void): void {
  try {
    callback();
  } catch (error) {
    logger.error(`${what} failed: ${errorText(error)}`);
  }
}

function encode(text: string): Buffer {
  const buffer = Buffer.allocUnsafe(Buffer.byteLength(text));
  buffer.write(text);
  return buffer;
}

/** Why a handler's outcome cannot be written as a reply, or undefined when it can. */
function replyProblem(outcome: unknown, upgrades: boolean): string | undefined {
  if (typeof outcome !== 'object' || outcome === null) return `returned ${String(outcome)}, not a reply`;
  if (isUpgrade(outcome as HttpReply)) return upgrades ? undefined : 'accepted a WebSocket upgrade on a plain HTTP route';
  const { status, headers, body } = outcome as HttpReply;
  if (!Number.isInteger(status) || status < 100 || status > 599) return `returned status ${String(status)}, not an HTTP status`;
  for (const name in headers) {
    if (typeof headers[name] !== 'string') return `returned header ${name} as a ${typeof headers[name]}, not a string`;
  }
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return `returned a body of type ${typeof body}, not a string or a Buffer`;
  return undefined;
}

/** The `released` hook of a handler's outcome, even of one that is not a valid reply. */
function releaseHookOf(outcome: unknown): (() => void) | undefined {
  const hook = typeof outcome === 'object' && outcome !== null ? (outcome as Partial<HttpReply>).released : undefined;
  return typeof hook === 'function' ? hook : undefined;
}
