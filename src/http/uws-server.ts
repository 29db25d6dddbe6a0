import { inject, injectable } from 'inversify';
import { performance } from 'node:perf_hooks';
import * as uws from 'uWebSockets.js';
import { TYPES } from '../../container/identifiers';
import type { Config } from '../config';
import { errorText } from '../error-text';
import type { Logger } from '../logger';
import { type HttpRequestMetrics, methodLabel, type RouteRecorder, UNMATCHED_ENDPOINT } from '../metrics/http-request-metrics';
import type { StreamTransport } from '../stream/stream-publisher';
import { urlTooLong } from './request-limits';
import { type HttpReply, type HttpRequest, parameterNames, patternMatcher, type Route, type RouteTable } from './route-table';
import { isUpgrade, type WebSocketClient, type WebSocketRoute, type WebSocketSession, type WebSocketUpgrade } from './websocket-route';

/**
 * True when the native uWS addon is loaded. The package silently falls back to a slow pure-JS
 * server when the binary cannot load; a native addon appears in require.cache by its .node path.
 */
export function uwsIsNative(): boolean {
  return Object.keys(require.cache).some((path) => /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(path));
}

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

/** RFC 6455 §7.4.1: the server is going away. */
const CLOSE_GOING_AWAY = 1001;

const NOT_FOUND: HttpReply = { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found\n' };
const INTERNAL_ERROR: HttpReply = { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal error\n' };

/** A WebSocket's state: the session opener from the upgrade, then the session; `closed` once uWS invalidated it. */
interface SocketData {
  readonly open: WebSocketUpgrade['open'];
  session?: WebSocketSession;
  closed: boolean;
}

type Socket = uws.WebSocket<SocketData>;

/** Whether the response can still be written: uWS invalidates it on abort. */
interface ResponseState {
  aborted: boolean;
  answered: boolean;
  /** onAborted registered (only for a response that outlives its request callback). */
  watched: boolean;
  /** A HEAD request: the reply's headers and length, without its body. */
  headOnly: boolean;
  /** The reply's `released`, while the rest of its body waits on onWritable. */
  release?: () => void;
}

/**
 * The one file that knows uWebSockets.js. It copies what a handler needs out of the
 * stack-allocated request, records every request against its route template, and writes the
 * reply with backpressure (tryEnd/onWritable), corked when written outside the request callback.
 * WebSocket upgrades are requests like any other (counted, 101 when accepted); published
 * messages reach only the subscribers whose session admits them.
 */
@injectable()
export class UwsServer implements StreamTransport {
  private readonly app: uws.TemplatedApp;
  private listenSocket?: uws.us_listen_socket;
  private readonly webSocketRoutes: WebSocketRoute[] = [];
  private readonly sockets = new Set<Socket>();
  /** uWS 20.30 crashes on app.publish() before any app.ws(): until then there is no one to publish to. */
  private webSocketRegistered = false;

  constructor(
    @inject(TYPES.RouteTable) private readonly routes: RouteTable,
    @inject(TYPES.HttpRequestMetrics) private readonly metrics: HttpRequestMetrics,
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    const { tls } = config;
    this.app = tls ? uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uws.App();
  }

  /** Adds a WebSocket endpoint; call before listen(). */
  addWebSocketRoute(route: WebSocketRoute): this {
    this.webSocketRoutes.push(route);
    return this;
  }

  publish(topic: string, message: string): void {
    if (!this.webSocketRegistered) return;
    // Subscribers a session turns away are taken off the topic for this one message.
    const skipped: Socket[] = [];
    for (const socket of this.sockets) {
      const data = socket.getUserData();
      if (data.closed || !socket.isSubscribed(topic)) continue;
      const admitted = data.session?.admits(socket.getBufferedAmount()) ?? true;
      if (!admitted && !data.closed) {
        socket.unsubscribe(topic);
        skipped.push(socket);
      }
    }
    this.app.publish(topic, message);
    for (const socket of skipped) if (!socket.getUserData().closed) socket.subscribe(topic);
  }

  bufferedBytes(): number {
    let total = 0;
    for (const socket of this.sockets) total += socket.getBufferedAmount();
    return total;
  }

  /** Registers the routes and listens; resolves with the bound port. */
  listen(): Promise<number> {
    // WebSocket routes first: uWS passes a plain GET of the same path on to the next handler.
    for (const route of this.webSocketRoutes) this.registerWebSocket(route);
    for (const route of this.routes.routes()) this.register(route);
    const unmatched = this.metrics.route(UNMATCHED_ENDPOINT);
    const otherMethods = this.otherMethodReplies();
    this.app.any('/*', (res, req) => {
      const method = methodLabel(req.getMethod());
      const path = req.getUrl();
      const known = otherMethods.find(({ matches }) => matches(path));
      if (known) this.serve(res, method, known.recorder, () => known.reply);
      else this.serve(res, method, unmatched, () => NOT_FOUND);
    });

    return new Promise((resolve, reject) => {
      this.app.listen(this.config.host, this.config.port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.config.host}:${this.config.port} (address in use or not available)`));
          return;
        }
        this.listenSocket = socket;
        resolve(uws.us_socket_local_port(socket));
      });
    });
  }

  /**
   * 405 with `Allow` for each path served, for a request with a method it is not served with;
   * counted under the route's template, so the series stay bounded by routes × methods.
   */
  private otherMethodReplies(): Array<{ matches: (path: string) => boolean; recorder: RouteRecorder; reply: HttpReply }> {
    const methods = new Map<string, Set<string>>();
    const served = [
      ...this.routes.routes().map(({ path, method }) => ({ path, allowed: method === 'GET' && !this.servesExplicitHead(path) ? ['GET', 'HEAD'] : [method] })),
      ...this.webSocketRoutes.map(({ path }) => ({ path, allowed: ['GET'] })),
    ];
    for (const { path, allowed } of served) methods.set(path, new Set([...(methods.get(path) ?? []), ...allowed]));
    return [...methods].map(([pattern, allowed]) => ({
      matches: patternMatcher(pattern),
      recorder: this.metrics.route(pattern),
      reply: { status: 405, headers: { Allow: [...allowed].join(', '), 'Content-Type': 'text/plain' }, body: 'method not allowed\n' },
    }));
  }

  private servesExplicitHead(path: string): boolean {
    return this.routes.routes().some((route) => route.method === 'HEAD' && route.path === path);
  }

  /** Stops accepting connections and closes every open one; WebSocket clients get a close frame first. */
  close(): void {
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    // Written to the kernel now (corked), so it reaches the client ahead of the TCP close below.
    for (const socket of this.sockets) socket.cork(() => socket.end(CLOSE_GOING_AWAY, 'server shutting down'));
    // Native since v20.29 but missing from the package's typings: closes keep-alive and WebSocket clients.
    (this.app as uws.TemplatedApp & { close?(): void }).close?.();
  }

  private register(route: Route): void {
    const recorder = this.metrics.route(route.path);
    const names = parameterNames(route.path);
    const headerNames: ReadonlySet<string> = new Set(route.headers ?? []);
    const handle = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
      const method = methodLabel(req.getMethod());
      // uWS's request object is only valid until this callback returns: copy everything now.
      const request = copyRequest(res, req, method, names, headerNames, route.readsPeerAddress === true);
      this.serve(res, method, recorder, () => urlTooLong(request) ?? route.handler(request));
    };
    switch (route.method) {
      case 'GET':
        this.app.get(route.path, handle);
        // HEAD of every GET route (RFC 9110 §9.1), unless the application serves HEAD itself.
        if (!this.servesExplicitHead(route.path)) this.app.head(route.path, handle);
        break;
      case 'HEAD': this.app.head(route.path, handle); break;
      case 'POST': this.app.post(route.path, handle); break;
      case 'PUT': this.app.put(route.path, handle); break;
      case 'DELETE': this.app.del(route.path, handle); break;
      case 'PATCH': this.app.patch(route.path, handle); break;
      case 'OPTIONS': this.app.options(route.path, handle); break;
    }
  }

  private registerWebSocket(route: WebSocketRoute): void {
    const recorder = this.metrics.route(route.path);
    const names = parameterNames(route.path);
    const headerNames: ReadonlySet<string> = new Set(route.headers ?? []);
    const { maxPayloadBytes, maxBufferedBytes, idleTimeoutSeconds } = route.limits;
    this.webSocketRegistered = true;
    this.app.ws<SocketData>(route.path, {
      maxPayloadLength: maxPayloadBytes,
      maxBackpressure: maxBufferedBytes,
      idleTimeout: idleTimeoutSeconds,
      sendPingsAutomatically: true,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        const method = methodLabel(req.getMethod());
        const request = copyRequest(res, req, method, names, headerNames, route.readsPeerAddress === true);
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const upgrade = (accepted: WebSocketUpgrade) => {
          const data: SocketData = { open: accepted.open, closed: false };
          res.upgrade(data, key, protocol, extensions, context);
        };
        this.serve(res, method, recorder, () => urlTooLong(request) ?? route.handler(request), upgrade);
      },
      open: (socket: Socket) => {
        this.sockets.add(socket);
        const data = socket.getUserData();
        this.guard(`opening a ${route.path} session`, () => socket.cork(() => (data.session = data.open(clientOf(socket)))));
      },
      message: (socket: Socket, message, isBinary) => {
        // The ArrayBuffer is only valid during this callback: decode it now.
        const text = Buffer.from(message).toString('utf8');
        this.guard(`a ${route.path} message`, () => socket.getUserData().session?.received(text, isBinary));
      },
      close: (socket: Socket, code, message) => {
        this.sockets.delete(socket);
        const data = socket.getUserData();
        data.closed = true;
        const reason = Buffer.from(message).toString('utf8');
        this.guard(`closing a ${route.path} session`, () => data.session?.closed(code, reason));
      },
    });
  }

  /** Runs a session callback; its exception is logged, never thrown into uWS. */
  private guard(what: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.error(`${what} failed: ${errorText(error)}`);
    }
  }

  /**
   * Runs a handler and answers. No exception leaves this method into uWS, and none is lost: a
   * handler that throws, rejects or gives something that is not a reply is answered 500 and
   * logged once. A WebSocket upgrade (status 101) is carried out by `upgrade`, which only
   * WebSocket routes pass.
   */
  private serve(
    res: uws.HttpResponse,
    method: string,
    recorder: RouteRecorder,
    handler: () => HttpReply | WebSocketUpgrade | Promise<HttpReply>,
    upgrade?: (accepted: WebSocketUpgrade) => void,
  ): void {
    const startedMs = performance.now();
    const state: ResponseState = { aborted: false, answered: false, watched: false, headOnly: method === 'HEAD' };
    recorder.begin(method);
    // uWS wants an abort handler only for a response that outlives this callback (async handler,
    // or a body waiting on onWritable); registering one per request costs a persistent handle.
    const watchAbort = () => {
      if (state.watched) return;
      state.watched = true;
      res.onAborted(() => {
        state.aborted = true;
        if (!state.answered) recorder.abort(method);
        this.releaseBody(state);
      });
    };
    const failed = (why: string): HttpReply => {
      this.logger.error(`handler for ${recorder.endpoint} ${why}`);
      return INTERNAL_ERROR;
    };
    const answer = (outcome: unknown): void => {
      // The handler's body goes back to it whatever becomes of the reply.
      state.release = releaseHookOf(outcome);
      if (state.aborted) return this.releaseBody(state);
      const problem = replyProblem(outcome, upgrade !== undefined);
      const reply = problem === undefined ? (outcome as HttpReply | WebSocketUpgrade) : failed(problem);
      try {
        if (isUpgrade(reply)) upgrade?.(reply);
        else if (this.write(res, state, reply)) this.releaseBody(state);
        else watchAbort();
      } catch (error) {
        this.logger.error(`writing a ${reply.status} reply for ${recorder.endpoint} failed: ${errorText(error)}`);
        // A half-written reply cannot be finished, and uWS aborts the process if it is left open.
        res.close();
        this.releaseBody(state);
      }
      state.answered = true;
      recorder.end(method, reply.status, (performance.now() - startedMs) / 1000);
    };
    // uWS invalidates an aborted response: it cannot even be corked any more.
    const answerLater = (outcome: unknown) => (state.aborted ? answer(outcome) : res.cork(() => answer(outcome)));

    let outcome: unknown;
    try {
      outcome = handler();
    } catch (error) {
      outcome = failed(`threw: ${errorText(error)}`);
    }
    if (!(outcome instanceof Promise)) return answer(outcome); // Still inside the request callback: uWS has corked the socket already.
    watchAbort(); // before the first await
    void outcome.then(answerLater, (error: unknown) => answerLater(failed(`failed: ${errorText(error)}`)));
  }

  /** Tells the body's owner, once, that uWS holds no more of it. */
  private releaseBody(state: ResponseState): void {
    const release = state.release;
    state.release = undefined;
    if (release) this.guard('releasing a reply body', release);
  }

  /** Writes the reply; false when the rest of the body waits on onWritable (the caller must then watch for abort). */
  private write(res: uws.HttpResponse, state: ResponseState, reply: HttpReply): boolean {
    res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
    for (const name in reply.headers) res.writeHeader(name, reply.headers[name]);
    if (state.headOnly) {
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
      if (state.aborted) return true;
      const [sent, done] = res.tryEnd(body.subarray(offset - startOffset), total);
      if (sent || done) this.releaseBody(state);
      return sent;
    });
    return false;
  }
}

/** Replies up to this many characters are ended in one call; larger ones respect backpressure. */
const SMALL_BODY_CHARS = 16 * 1024;

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

/** Copies what a handler reads out of uWS's request, which is only valid during its callback. */
function copyRequest(res: uws.HttpResponse, req: uws.HttpRequest, method: string, parameters: readonly string[], headerNames: ReadonlySet<string>, peerAddress: boolean): HttpRequest {
  const params: Record<string, string> = {};
  parameters.forEach((name, index) => (params[name] = req.getParameter(index)));
  const headers: Record<string, string> = {};
  for (const name of headerNames) headers[name] = '';
  if (headerNames.size > 0) {
    // A header sent twice is read as one comma-separated list (RFC 9110 §5.3), so a second
    // X-Forwarded-For line cannot hide behind the first.
    req.forEach((name, value) => {
      if (headerNames.has(name)) headers[name] = headers[name] === '' ? value : `${headers[name]}, ${value}`;
    });
  }
  return {
    method,
    path: req.getUrl(),
    query: req.getQuery() ?? '',
    params,
    headers,
    // getRemoteAddressAsText() allocates an ArrayBuffer per call: ~25 % of a small request's cost.
    remoteAddress: peerAddress ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
  };
}

/** A session's handle on its socket: every call after close is a no-op, and writes are corked. */
function clientOf(socket: Socket): WebSocketClient {
  const open = () => !socket.getUserData().closed;
  return {
    subscribe: (topic) => void (open() && socket.subscribe(topic)),
    unsubscribe: (topic) => void (open() && socket.unsubscribe(topic)),
    send: (message) => void (open() && socket.cork(() => socket.send(message))),
    bufferedBytes: () => (open() ? socket.getBufferedAmount() : 0),
    close: (code, reason) => void (open() && socket.cork(() => socket.end(code, reason))),
    terminate: () => void (open() && socket.close()),
  };
}
