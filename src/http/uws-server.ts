import { inject, injectable } from 'inversify';
import { performance } from 'node:perf_hooks';
import * as uws from 'uWebSockets.js';
import { TYPES } from '../../container/identifiers';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { type HttpRequestMetrics, methodLabel, type RouteRecorder, UNMATCHED_ENDPOINT } from '../metrics/http-request-metrics';
import { type HttpReply, type HttpRequest, parameterNames, type Route, type RouteTable } from './route-table';

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
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

const NOT_FOUND: HttpReply = { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found\n' };
const INTERNAL_ERROR: HttpReply = { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal error\n' };

/** Whether the response can still be written: uWS invalidates it on abort. */
interface ResponseState {
  aborted: boolean;
  answered: boolean;
}

/**
 * The one file that knows uWebSockets.js. It copies what a handler needs out of the
 * stack-allocated request, records every request against its route template, and writes the
 * reply with backpressure (tryEnd/onWritable), corked when written outside the request callback.
 */
@injectable()
export class UwsServer {
  private readonly app: uws.TemplatedApp;
  private listenSocket?: uws.us_listen_socket;

  constructor(
    @inject(TYPES.RouteTable) private readonly routes: RouteTable,
    @inject(TYPES.HttpRequestMetrics) private readonly metrics: HttpRequestMetrics,
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    this.app = uws.App();
  }

  /** Registers the routes and listens; resolves with the bound port. */
  listen(): Promise<number> {
    for (const route of this.routes.routes()) this.register(route);
    const unmatched = this.metrics.route(UNMATCHED_ENDPOINT);
    this.app.any('/*', (res, req) => {
      const method = methodLabel(req.getMethod());
      this.serve(res, method, unmatched, () => NOT_FOUND);
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

  /** Stops accepting connections and closes every open one. */
  close(): void {
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    // Native since v20.29 but missing from the package's typings: closes keep-alive and WebSocket clients.
    (this.app as uws.TemplatedApp & { close?(): void }).close?.();
  }

  private register(route: Route): void {
    const recorder = this.metrics.route(route.path);
    const names = parameterNames(route.path);
    const headerNames = route.headers ?? [];
    const handle = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
      const method = methodLabel(req.getMethod());
      // uWS's request object is only valid until this callback returns: copy everything now.
      const params: Record<string, string> = {};
      names.forEach((name, index) => (params[name] = req.getParameter(index)));
      const headers: Record<string, string> = {};
      for (const name of headerNames) headers[name] = req.getHeader(name);
      const request: HttpRequest = {
        method,
        path: req.getUrl(),
        query: req.getQuery() ?? '',
        params,
        headers,
        remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      };
      this.serve(res, method, recorder, () => route.handler(request));
    };
    switch (route.method) {
      case 'GET': this.app.get(route.path, handle); break;
      case 'HEAD': this.app.head(route.path, handle); break;
      case 'POST': this.app.post(route.path, handle); break;
      case 'PUT': this.app.put(route.path, handle); break;
      case 'DELETE': this.app.del(route.path, handle); break;
      case 'PATCH': this.app.patch(route.path, handle); break;
      case 'OPTIONS': this.app.options(route.path, handle); break;
    }
  }

  /** Runs a handler and answers; no exception leaves this method into uWS. */
  private serve(res: uws.HttpResponse, method: string, recorder: RouteRecorder, handler: () => HttpReply | Promise<HttpReply>): void {
    const startedMs = performance.now();
    const state: ResponseState = { aborted: false, answered: false };
    recorder.begin(method);
    res.onAborted(() => {
      state.aborted = true;
      if (!state.answered) recorder.abort(method);
    });
    const answer = (reply: HttpReply): void => {
      if (state.aborted) return;
      try {
        this.write(res, state, reply);
      } catch (error) {
        this.logger.error(`writing a ${reply.status} reply failed: ${(error as Error).message}`);
      }
      state.answered = true;
      recorder.end(method, reply.status, (performance.now() - startedMs) / 1000);
    };

    let reply: HttpReply | Promise<HttpReply>;
    try {
      reply = handler();
    } catch (error) {
      this.logger.error(`handler for ${recorder.endpoint} threw: ${(error as Error).message}`);
      reply = INTERNAL_ERROR;
    }
    if (!(reply instanceof Promise)) {
      answer(reply); // Still inside the request callback: uWS has corked the socket already.
      return;
    }
    reply.then(
      (value) => res.cork(() => answer(value)),
      (error: unknown) => {
        this.logger.error(`handler for ${recorder.endpoint} failed: ${(error as Error)?.message ?? String(error)}`);
        res.cork(() => answer(INTERNAL_ERROR));
      },
    ).catch(() => undefined);
  }

  private write(res: uws.HttpResponse, state: ResponseState, reply: HttpReply): void {
    res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
    for (const name in reply.headers) res.writeHeader(name, reply.headers[name]);
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const total = body.byteLength;
    const startOffset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, total);
    if (ok || done) return;
    // The socket is full: send the rest as the client drains it, instead of buffering it all.
    res.onWritable((offset) => {
      if (state.aborted) return true;
      const [sent] = res.tryEnd(body.subarray(offset - startOffset), total);
      return sent;
    });
  }
}
