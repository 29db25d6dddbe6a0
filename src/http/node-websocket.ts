import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import { type HttpRequestMetrics, methodLabel } from '../metrics/http-request-metrics';
import { Exchange, REPLY_HEADERS, runLogged } from './exchange';
import { nodeRequestReader, NodeResponse, responseOnSocket } from './node-http-exchange';
import { withUrlLimit } from './route-plan';
import { patternMatcher } from './route-table';
import { PROTOCOL_VIOLATION_PREFIX, type WebSocketClient, type WebSocketRoute, type WebSocketSession, type WebSocketUpgrade } from './websocket-route';

/** RFC 6455 §7.4.1: the server is going away. */
const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 §7.4.1: the connection ended without a close frame. */
const CLOSE_ABNORMAL = 1006;

/** One open socket: its route's limits, its session, its topics, and when the client was last heard. */
interface Client {
  readonly socket: WebSocket;
  readonly route: WebSocketRoute;
  readonly topics: Set<string>;
  session?: WebSocketSession;
  lastHeardMs: number;
  /** Why the server ended the connection over a protocol violation. */
  violation?: string;
}

/** A WebSocket route with what the engine derived from it once. */
interface ServedWebSocketRoute {
  readonly route: WebSocketRoute;
  readonly matches: (path: string) => boolean;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly idleTimer: NodeJS.Timeout;
}

/**
 * The WebSocket half of the node:http engine, over `ws`, with uWS's behaviour: an upgrade is a
 * request like any other (an Exchange: counted, 101 when accepted); the route selects the
 * subprotocol; messages past the payload limit end the connection; a quiet client is pinged, then
 * dropped at the idle timeout; a publish skips clients whose session turns them away, and clients
 * holding more than the route's buffer limit (uWS's backpressure limit).
 */
export class NodeWebSockets {
  private readonly clients = new Set<Client>();
  private readonly served: ServedWebSocketRoute[] = [];

  constructor(
    private readonly metrics: HttpRequestMetrics,
    private readonly logger: Logger,
    private readonly work: WorkNotice,
  ) {}

  register(route: WebSocketRoute): void {
    const recorder = this.metrics.route(route.path);
    const read = nodeRequestReader(route);
    const handler = withUrlLimit(route.handler);
    const selected = new WeakMap<IncomingMessage, string | undefined>();
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: route.limits.maxPayloadBytes,
      // The route selects the subprotocol: echoing the offered list would echo a token offered in it.
      handleProtocols: (_offered, req) => selected.get(req) ?? false,
    });
    server.on('headers', (headers) => headers.push(...Object.entries(REPLY_HEADERS).map(([name, value]) => `${name}: ${value}`)));
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.work.noteWork();
      const method = methodLabel(req.method ?? '');
      const res = responseOnSocket(req, socket);
      const accept = (accepted: WebSocketUpgrade) => {
        selected.set(req, accepted.protocol);
        res.detachSocket(socket as Parameters<typeof res.detachSocket>[0]);
        server.handleUpgrade(req, socket, head, (webSocket) => this.opened(webSocket, route, accepted));
      };
      new Exchange(new NodeResponse(res), method, recorder, this.logger, accept).run(handler, read(req, method, []));
    };
    const idleMs = route.limits.idleTimeoutSeconds * 1000;
    const idleTimer = setInterval(() => this.checkIdle(route, idleMs), idleMs / 4).unref();
    this.served.push({ route, matches: patternMatcher(route.path), upgrade, idleTimer });
  }

  /** The upgrade handler of the WebSocket route serving `path`, if one does. */
  upgradeFor(path: string): ServedWebSocketRoute['upgrade'] | undefined {
    return this.served.find(({ matches }) => matches(path))?.upgrade;
  }

  publish(topic: string, message: string): void {
    let payload: Buffer | undefined;
    for (const client of this.clients) {
      if (!client.topics.has(topic) || client.socket.readyState !== WebSocket.OPEN) continue;
      const buffered = client.socket.bufferedAmount;
      if (!(client.session?.admits(buffered) ?? true) || buffered > client.route.limits.maxBufferedBytes) continue;
      // One Buffer for every subscriber: ws frames a Buffer without copying it.
      payload ??= Buffer.from(message);
      client.socket.send(payload, { binary: false });
    }
  }

  bufferedBytes(): number {
    let total = 0;
    for (const { socket } of this.clients) total += socket.bufferedAmount;
    return total;
  }

  /** Sends every open socket a close frame and stops the idle checks. */
  closeAll(): void {
    for (const { idleTimer } of this.served) clearInterval(idleTimer);
    for (const { socket } of this.clients) socket.close(CLOSE_GOING_AWAY, 'server shutting down');
  }

  private opened(socket: WebSocket, route: WebSocketRoute, accepted: WebSocketUpgrade): void {
    const client: Client = { socket, route, topics: new Set(), lastHeardMs: Date.now() };
    this.clients.add(client);
    const heard = () => (client.lastHeardMs = Date.now());
    socket.on('message', (data, isBinary) => {
      this.work.noteWork();
      heard();
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
      runLogged(this.logger, `a ${route.path} message`, () => client.session?.received(text, isBinary));
    });
    socket.on('pong', heard);
    socket.on('ping', heard);
    socket.on('error', (error) => {
      // ws has queued a close frame; uWS drops such a connection at once, and so does this engine.
      client.violation = error.message;
      socket.terminate();
    });
    socket.on('close', (code, reason) => {
      this.clients.delete(client);
      const [closedCode, closedReason] = client.violation === undefined ? [code, reason.toString('utf8')] : [CLOSE_ABNORMAL, `${PROTOCOL_VIOLATION_PREFIX}${client.violation}`];
      runLogged(this.logger, `closing a ${route.path} session`, () => client.session?.closed(closedCode, closedReason));
    });
    runLogged(this.logger, `opening a ${route.path} session`, () => (client.session = accepted.open(handleOf(client))));
  }

  /** Pings a client quiet for half the idle timeout; drops one quiet for all of it. */
  private checkIdle(route: WebSocketRoute, idleMs: number): void {
    const now = Date.now();
    for (const { socket, route: of, lastHeardMs } of this.clients) {
      if (of !== route || socket.readyState !== WebSocket.OPEN) continue;
      if (now - lastHeardMs >= idleMs) socket.terminate();
      else if (now - lastHeardMs >= idleMs / 2) socket.ping();
    }
  }
}

/** A session's handle on its socket: every call after close is a no-op. */
function handleOf({ socket, topics, route }: Client): WebSocketClient {
  const open = () => socket.readyState === WebSocket.OPEN;
  return {
    subscribe: (topic) => void topics.add(topic),
    unsubscribe: (topic) => void topics.delete(topic),
    // Past the route's buffer limit the message is dropped, as uWS drops it past its backpressure limit.
    send: (message) => void (open() && socket.bufferedAmount <= route.limits.maxBufferedBytes && socket.send(message)),
    bufferedBytes: () => (open() ? socket.bufferedAmount : 0),
    close: (code, reason) => void (open() && socket.close(code, reason)),
    terminate: () => void (open() && socket.terminate()),
  };
}
