import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config';
import { errorText } from '../error-text';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import { type HttpRequestMetrics, methodLabel } from '../metrics/http-request-metrics';
import { Exchange, REPLY_HEADERS } from './exchange';
import type { HttpServer } from './http-server';
import { nodeRequestReader, NodeResponse, responseOnSocket, splitUrl } from './node-http-exchange';
import { NodeWebSockets } from './node-websocket';
import { RoutePlan, type ServedRoute } from './route-plan';
import { type HttpReply, patternParameters, type RouteTable } from './route-table';
import { WebSocketHost } from './websocket-host';

/** Like uWS: a connection that sends no complete request head within 10 s, or idles as long, is closed. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400. */
const MISSING_HOST: HttpReply = { status: 400, headers: { 'Content-Type': 'text/plain' }, body: 'an HTTP/1.1 request needs a Host header\n' };

/** A served route with its matcher and its request reader, resolved once at listen. */
interface Handled {
  readonly served: ServedRoute;
  readonly parameters: (path: string) => string[] | undefined;
  readonly read: ReturnType<typeof nodeRequestReader>;
}

/**
 * The HttpServer over node:http (node:https with TLS_CERT_FILE) and `ws`, for hosts where no
 * uWebSockets.js build loads. It serves the same RoutePlan through the same Exchange as the uWS
 * engine; node-websocket.ts serves WebSockets. No exception leaves a node callback.
 */
export class NodeHttpServer extends WebSocketHost<NodeWebSockets> implements HttpServer {
  private readonly server: http.Server;
  protected readonly webSockets: NodeWebSockets;
  private plan?: RoutePlan;
  /** Per method, its routes: literal patterns before those with parameters, as uWS orders them. */
  private readonly byMethod = new Map<string, Handled[]>();

  constructor(
    private readonly routes: RouteTable,
    private readonly metrics: HttpRequestMetrics,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly work: WorkNotice,
  ) {
    super();
    // Host is required of HTTP/1.1 below, not by node: node's own 400 would lack REPLY_HEADERS and go uncounted.
    const options: http.ServerOptions = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: HEADERS_TIMEOUT_MS, requireHostHeader: false };
    const { tls } = config;
    this.server = tls ? https.createServer({ ...options, cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }) : http.createServer(options);
    this.webSockets = new NodeWebSockets(metrics, logger, work);
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.guarded(res, () => this.request(req, res)));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.guarded(socket, () => this.upgrade(req, socket, head)));
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => refuseMalformed(error, socket));
  }

  listen(): Promise<number> {
    this.plan = new RoutePlan(this.routes.routes(), this.registerWebSocketRoutes(), this.metrics);
    for (const served of this.plan.served) {
      const handled = { served, parameters: patternParameters(served.route.path), read: nodeRequestReader(served.route) };
      this.byMethod.set(served.method, [...(this.byMethod.get(served.method) ?? []), handled]);
    }
    for (const list of this.byMethod.values()) list.sort((a, b) => Number(a.served.route.path.includes(':')) - Number(b.served.route.path.includes(':')));
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use (by another process or instance)' : errorText(error);
        reject(new Error(`cannot listen on ${host}:${port}: ${why}`));
      };
      this.server.once('error', failed);
      // node:http never sets SO_REUSEPORT: a second process on the port gets EADDRINUSE.
      this.server.listen({ host, port }, () => {
        this.server.off('error', failed);
        this.server.on('error', (error) => this.logger.error(`HTTP server error: ${errorText(error)}`));
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): void {
    this.webSockets.closeAll();
    this.server.close();
    this.server.closeAllConnections();
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    this.work.noteWork();
    const method = methodLabel(req.method ?? '');
    const { path } = splitUrl(req.url ?? '/');
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      const { recorder } = this.plan!.unserved(path);
      new Exchange(new NodeResponse(res), method, recorder, this.logger).answer(MISSING_HOST);
      return;
    }
    for (const { served, parameters, read } of this.byMethod.get(req.method ?? '') ?? []) {
      const values = parameters(path);
      if (values === undefined) continue;
      new Exchange(new NodeResponse(res), method, served.recorder, this.logger).run(served.handler, read(req, method, values));
      return;
    }
    const { recorder, reply } = this.plan!.unserved(path);
    new Exchange(new NodeResponse(res), method, recorder, this.logger).answer(reply);
  }

  /** A request with an Upgrade header: a WebSocket route's if one serves the path, else a plain request. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const webSocket = req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket' ? this.webSockets.upgradeFor(splitUrl(req.url ?? '/').path) : undefined;
    if (webSocket) webSocket(req, socket, head);
    else this.request(req, responseOnSocket(req, socket));
  }

  /** Runs a node callback's work; an exception is logged and its connection closed, never thrown into node. */
  private guarded(connection: { destroy(): void }, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.logger.error(`the HTTP engine failed on a request: ${errorText(error)}`);
      connection.destroy();
    }
  }
}

/** Answers a request node could not parse, with the headers of every reply, and closes the connection. */
function refuseMalformed(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  const headers = Object.entries(REPLY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${headers}\r\n`);
}
