import type * as uws from 'uWebSockets.js';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import { type HttpRequestMetrics, methodLabel } from '../metrics/http-request-metrics';
import { Exchange, REPLY_HEADERS, runLogged } from './exchange';
import type { UwsModule } from './http-engines';
import { withUrlLimit } from './route-plan';
import { UwsResponse } from './uws-exchange';
import { requestReader } from './uws-http';
import type { WebSocketClient, WebSocketRoute, WebSocketSession, WebSocketUpgrade } from './websocket-route';

/** RFC 6455 §7.4.1: the server is going away. */
const CLOSE_GOING_AWAY = 1001;

/** A WebSocket's state: the session opener from the upgrade, then the session; `closed` once uWS invalidated it. */
interface SocketData {
  readonly open: WebSocketUpgrade['open'];
  session?: WebSocketSession;
  closed: boolean;
}

type Socket = uws.WebSocket<SocketData>;

/**
 * The WebSocket half of the uWS adapter. An upgrade is a request like any other (an Exchange:
 * counted, 101 when accepted); each open socket carries its route's session, and published
 * messages reach only the subscribers whose session admits them.
 */
export class UwsWebSockets {
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly uws: UwsModule,
    private readonly app: uws.TemplatedApp,
    private readonly metrics: HttpRequestMetrics,
    private readonly logger: Logger,
    private readonly work: WorkNotice,
  ) {}

  register(route: WebSocketRoute): void {
    const recorder = this.metrics.route(route.path);
    const read = requestReader(route);
    const handler = withUrlLimit(route.handler);
    const { maxPayloadBytes, maxBufferedBytes, idleTimeoutSeconds } = route.limits;
    this.app.ws<SocketData>(route.path, {
      maxPayloadLength: maxPayloadBytes,
      maxBackpressure: maxBufferedBytes,
      idleTimeout: idleTimeoutSeconds,
      sendPingsAutomatically: true,
      compression: this.uws.DISABLED,
      upgrade: (res, req, context) => {
        this.work.noteWork();
        const method = methodLabel(req.getMethod());
        const request = read(res, req, method);
        const key = req.getHeader('sec-websocket-key');
        const extensions = req.getHeader('sec-websocket-extensions');
        const upgrade = (accepted: WebSocketUpgrade) => {
          const data: SocketData = { open: accepted.open, closed: false };
          // A header written before the status would make it 200: uWS's upgrade keeps a 101 written first.
          res.writeStatus('101 Switching Protocols');
          for (const name in REPLY_HEADERS) res.writeHeader(name, REPLY_HEADERS[name]!);
          // The route selects the subprotocol: echoing the offered list would echo a token offered in it.
          res.upgrade(data, key, accepted.protocol ?? '', extensions, context);
        };
        new Exchange(new UwsResponse(res), method, recorder, this.logger, upgrade).run(handler, request);
      },
      open: (socket: Socket) => {
        this.sockets.add(socket);
        const data = socket.getUserData();
        runLogged(this.logger, `opening a ${route.path} session`, () => socket.cork(() => (data.session = data.open(clientOf(socket)))));
      },
      message: (socket: Socket, message, isBinary) => {
        this.work.noteWork();
        // The ArrayBuffer is only valid during this callback: decode it now.
        const text = Buffer.from(message).toString('utf8');
        runLogged(this.logger, `a ${route.path} message`, () => socket.getUserData().session?.received(text, isBinary));
      },
      close: (socket: Socket, code, message) => {
        this.sockets.delete(socket);
        const data = socket.getUserData();
        data.closed = true;
        const reason = Buffer.from(message).toString('utf8');
        runLogged(this.logger, `closing a ${route.path} session`, () => data.session?.closed(code, reason));
      },
    });
  }

  publish(topic: string, message: string): void {
    // No one to publish to; and uWS 20.30 crashes on app.publish() before any app.ws() route exists.
    if (this.sockets.size === 0) return;
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

  /** Sends every open socket a close frame, written to the kernel now (corked), so it reaches the client ahead of a TCP close. */
  closeAll(): void {
    for (const socket of this.sockets) socket.cork(() => socket.end(CLOSE_GOING_AWAY, 'server shutting down'));
  }
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
