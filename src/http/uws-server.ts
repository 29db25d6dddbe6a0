import type * as uws from 'uWebSockets.js';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import type { HttpRequestMetrics } from '../metrics/http-request-metrics';
import type { UwsModule } from './http-engines';
import type { HttpServer } from './http-server';
import { RoutePlan } from './route-plan';
import type { RouteTable } from './route-table';
import { UwsHttp } from './uws-http';
import { UwsWebSockets } from './uws-websocket';
import { WebSocketHost } from './websocket-host';

/**
 * The HttpServer over uWebSockets.js, either build (20.57 or 20.30: the same API), given as the
 * loaded module. With its two halves (uws-http.ts answers requests, uws-websocket.ts serves
 * WebSockets) the only code that knows uWS. This part owns the app (TLS or not), the order routes
 * are registered in, and the listening socket.
 */
export class UwsServer extends WebSocketHost<UwsWebSockets> implements HttpServer {
  private readonly app: uws.TemplatedApp;
  private readonly http: UwsHttp;
  protected readonly webSockets: UwsWebSockets;
  private listenSocket?: uws.us_listen_socket;

  constructor(
    private readonly uws: UwsModule,
    private readonly routes: RouteTable,
    private readonly metrics: HttpRequestMetrics,
    private readonly config: Config,
    logger: Logger,
    work: WorkNotice,
  ) {
    super();
    const { tls } = config;
    this.app = tls ? uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uws.App();
    this.http = new UwsHttp(this.app, logger, work);
    this.webSockets = new UwsWebSockets(uws, this.app, metrics, logger, work);
  }

  listen(): Promise<number> {
    // WebSocket routes first: uWS passes a plain GET of the same path on to the next handler.
    this.http.register(new RoutePlan(this.routes.routes(), this.registerWebSocketRoutes(), this.metrics));
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      // Exclusive: without it uWS sets SO_REUSEPORT, and a second process on the port would
      // silently take half the connections (with their Authorization headers).
      const listening = (socket: uws.us_listen_socket | false) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}: the port is in use (by another process or instance) or the address is not available`));
          return;
        }
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      };
      // Both builds take (host, port, options, callback) and export the option as a plain number;
      // their typings list only (port, options, callback), and the option only as an enum.
      const exclusive = (this.uws as UwsModule & { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
      (this.app.listen as unknown as (host: string, port: number, options: number, cb: typeof listening) => void)(host, port, exclusive, listening);
    });
  }

  close(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.webSockets.closeAll();
    // Native since v20.29 but missing from the 20.30 package's typings: closes keep-alive and WebSocket clients.
    (this.app as uws.TemplatedApp & { close?(): void }).close?.();
  }
}
