import { performance } from 'node:perf_hooks';
import { errorText } from '../error-text';
import type { Logger } from '../logger';
import type { RouteRecorder } from '../metrics/http-request-metrics';
import type { HttpReply, HttpRequest } from './route-table';
import { isUpgrade, type WebSocketUpgrade } from './websocket-route';

/** Headers every reply carries, on every engine: no browser guesses a content type other than the one sent. */
export const REPLY_HEADERS: Readonly<Record<string, string>> = { 'X-Content-Type-Options': 'nosniff' };

const INTERNAL_ERROR: HttpReply = { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal error\n' };

/** A route's handler as the server runs it: a reply now or later, or (WebSocket routes only) an accepted upgrade. */
export type ExchangeHandler = (request: HttpRequest) => HttpReply | WebSocketUpgrade | Promise<HttpReply>;

/** What an Exchange needs of one engine's response. */
export interface ResponseChannel {
  /** Calls `aborted` when the client goes away before the reply is written whole. Registered at most once. */
  onAborted(aborted: () => void): void;
  /** Runs `write` for a reply answered after the request callback, so that it leaves in one go (uWS: corked). */
  later(write: () => void): void;
  /**
   * Writes the status, REPLY_HEADERS, the reply's headers and (unless `head`) its body. True when
   * the engine holds no more of the body; otherwise `drained` is called once it does.
   */
  write(reply: HttpReply, head: boolean, drained: () => void): boolean;
  /** Ends a response left half-written (a write threw). */
  destroy(): void;
}

/**
 * Where a response stands. Abort watching costs a persistent handle on uWS, so it starts only for
 * a response that outlives its request callback: on entering `awaiting` or `draining`.
 */
type Phase =
  /** The handler runs inside the request callback. */
  | 'handling'
  /** The handler's promise is pending. */
  | 'awaiting'
  /** Answered; the rest of the body waits on the client. */
  | 'draining'
  | 'done'
  /** The client went away: the response can no longer be written. */
  | 'aborted';

/**
 * One request, from its handler to the last byte of its reply, on any engine. No exception leaves
 * it into the engine, and none is lost: a handler that throws, rejects or gives something that is
 * not a reply is answered 500 and logged once. Its duration and outcome are recorded against the route.
 */
export class Exchange {
  private phase: Phase = 'handling';
  private readonly startedMs = performance.now();
  /** The reply's `released`, until the engine holds no more of its body. */
  private release?: () => void;

  constructor(
    private readonly response: ResponseChannel,
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

  private answerLater(outcome: unknown): void {
    if (this.phase === 'aborted') this.answer(outcome);
    else this.response.later(() => this.answer(outcome));
  }

  private failed(why: string): HttpReply {
    this.logger.error(`handler for ${this.recorder.endpoint} ${why}`);
    return INTERNAL_ERROR;
  }

  private watchAbort(): void {
    this.response.onAborted(() => {
      if (this.phase === 'awaiting') this.recorder.abort(this.method); // An answered request is counted already.
      if (this.phase === 'done') return;
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
      const drained = () => {
        if (this.phase !== 'draining') return;
        this.phase = 'done';
        this.releaseBody();
      };
      if (this.response.write(reply, this.method === 'HEAD', drained)) {
        this.releaseBody();
        return 'done';
      }
      if (this.phase === 'handling') this.watchAbort();
      return 'draining';
    } catch (error) {
      this.logger.error(`writing a ${reply.status} reply for ${this.recorder.endpoint} failed: ${errorText(error)}`);
      // A half-written reply cannot be finished (and uWS aborts the process if it is left open).
      this.response.destroy();
      this.releaseBody();
      return 'done';
    }
  }

  /** Tells the body's owner, once, that the engine holds no more of it. */
  private releaseBody(): void {
    const release = this.release;
    this.release = undefined;
    if (release) runLogged(this.logger, 'releasing a reply body', release);
  }
}

/** Runs a callback from within an engine's callback: its exception is logged, never thrown into the engine. */
export function runLogged(logger: Logger, what: string, callback: () => void): void {
  try {
    callback();
  } catch (error) {
    logger.error(`${what} failed: ${errorText(error)}`);
  }
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

/** A body's length in bytes, for Content-Length. */
export function bodyBytes(body: string | Buffer): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}
