import { inject, injectable } from 'inversify';
import * as uws from 'uWebSockets.js';
import { TYPES } from '../tokens';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import type { HttpRequestMetrics } from '../metrics/http-request-metrics';
import type { HttpServer } from './http-server';
import type { RouteTable } from './route-table';
import { UwsHttp } from './uws-http';
import { UwsWebSockets } from './uws-websocket';
import type { WebSocketRoute } from './websocket-route';

/**
 * True when the native uWS addon is loaded. The package silently falls back to a slow pure-JS
 * server when the binary cannot load; a native addon appears in require.cache by its .node path.
 */
export function uwsIsNative(): boolean {
  return Object.keys(require.cache).some((path) => /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(path));
}

/**
 * The HttpServer over uWebSockets.js, the only code that knows it (with its two halves: uws-http.ts
 * answers requests, uws-websocket.ts serves WebSockets). This part owns the app (TLS or not), the
 * order routes are registered in, and the listening socket.
 */
@injectable()
export class UwsServer implements HttpServer {
  private readonly app: uws.TemplatedApp;
  private readonly http: UwsHttp;
  private readonly webSockets: UwsWebSockets;
  private readonly webSocketRoutes: WebSocketRoute[] = [];
  private listenSocket?: uws.us_listen_socket;

  constructor(
    @inject(TYPES.RouteTable) private readonly routes: RouteTable,
    @inject(TYPES.HttpRequestMetrics) metrics: HttpRequestMetrics,
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) logger: Logger,
    @inject(TYPES.WorkNotice) work: WorkNotice,
  ) {
    const { tls } = config;
    this.app = tls ? uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uws.App();
    this.http = new UwsHttp(this.app, metrics, logger, work);
    this.webSockets = new UwsWebSockets(this.app, metrics, logger, work);
  }

  addWebSocketRoute(route: WebSocketRoute): this {
    this.webSocketRoutes.push(route);
    return this;
  }

  publish(topic: string, message: string): void {
    this.webSockets.publish(topic, message);
  }

  bufferedBytes(): number {
    return this.webSockets.bufferedBytes();
  }

  listen(): Promise<number> {
    // WebSocket routes first: uWS passes a plain GET of the same path on to the next handler.
    for (const route of this.webSocketRoutes) this.webSockets.register(route);
    this.http.register(this.routes.routes(), this.webSocketRoutes.map(({ path }) => path));
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
          return;
        }
        this.listenSocket = socket;
        resolve(uws.us_socket_local_port(socket));
      });
    });
  }

  close(): void {
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.webSockets.closeAll();
    // Native since v20.29 but missing from the package's typings: closes keep-alive and WebSocket clients.
    (this.app as uws.TemplatedApp & { close?(): void }).close?.();
  }
}
