import { type Clock, systemClock } from '../clock';
import type { Config } from '../config';
import { clientAddress, offeredSubprotocols, SUBPROTOCOL_HEADER } from '../http/access-control';
import { formatIp } from '../http/cidr';
import { json, type Route } from '../http/route-table';
import { PROTOCOL_VIOLATION_PREFIX, type WebSocketClient, type WebSocketRoute, type WebSocketSession } from '../http/websocket-route';
import { BadMessageAllowance, MAX_BAD_MESSAGES_PER_INTERVAL } from './bad-messages';
import { errorMessage, parseClientMessage, parseSourcesQuery } from './protocol';
import { LiveClientCaps } from './client-caps';
import type { DisconnectReason, LiveMetrics } from './live-metrics';
import { sourceTopic, type LivePublisher } from './publisher';
import { originRefusal } from './stream-origin';

export const STREAM_PATH = '/stream';

/**
 * The subprotocol the stream selects when a client offers it: a browser offering the bearer token
 * as a subprotocol must offer this one too, since the server may only echo one it offered.
 */
export const STREAM_SUBPROTOCOL = 'iotflow-metrics.stream';

/** Client messages are a few source names: a bigger one is closed with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** Past this uWS drops the connection itself, without a close frame, before the message is even read. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

/** A client that has had this many messages in a row dropped is closed: it is not reading at all. */
export const SKIPS_BEFORE_CLOSE = 10;

/** Close codes (RFC 6455 §7.4.1) the stream sends. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_MESSAGE_TOO_BIG = 1009;


/**
 * One /stream client: its subscriptions follow its messages, each subscription starts with the
 * source's latest message (once per collection, however often it is asked for), and its backlog is kept under `maxBufferedBytes` by dropping
 * messages (counted) rather than queueing them; a client that stays behind is closed. Messages it
 * cannot use are answered at most once per collection interval, and too many close it (`badMessages`):
 * what it makes the server send is bounded by what it subscribed to, not by what it sends.
 */
export class LiveSession implements WebSocketSession {
  private skippedInARow = 0;
  private closing?: DisconnectReason;
  private readonly subscribed = new Set<string>();
  /** Per source, the collection whose snapshot this client was last sent: one each, however many subscribe frames. */
  private readonly snapshotSent = new Map<string, number>();

  constructor(
    private readonly client: WebSocketClient,
    private readonly publisher: LivePublisher,
    private readonly metrics: LiveMetrics,
    private readonly maxBufferedBytes: number,
    private readonly badMessages: BadMessageAllowance,
    /** Gives the client's slot back once it is gone. */
    private readonly released: () => void = () => undefined,
  ) {
    metrics.clientOpened();
  }

  subscribe(sources: readonly string[]): void {
    for (const source of sources) {
      if (this.subscribed.has(source)) continue; // It gets every collection already.
      this.subscribed.add(source);
      this.client.subscribe(sourceTopic(source));
      const latest = this.publisher.latest(source);
      if (latest === undefined || this.snapshotSent.get(source) === latest.collection) continue;
      if (this.sendIfAdmitted(latest.message)) this.snapshotSent.set(source, latest.collection);
    }
  }

  received(message: string, isBinary: boolean): void {
    if (isBinary) {
      this.closeFor('protocol', CLOSE_UNSUPPORTED_DATA, 'binary messages are not supported; send JSON text');
      return;
    }
    if (Buffer.byteLength(message) > MAX_CLIENT_MESSAGE_BYTES) {
      this.closeFor('protocol', CLOSE_MESSAGE_TOO_BIG, `messages are at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
      return;
    }
    // A malformed message is answered, not punished, unless it comes in a flood: the stream goes on with the subscriptions it has.
    const change = parseClientMessage(message, this.publisher.sourceNames);
    if ('error' in change) {
      this.refuseMessage(change.error);
      return;
    }
    for (const source of change.unsubscribe) {
      this.subscribed.delete(source);
      this.client.unsubscribe(sourceTopic(source));
    }
    this.subscribe(change.subscribe);
  }

  admits(bufferedBytes: number): boolean {
    if (bufferedBytes < this.maxBufferedBytes) {
      this.skippedInARow = 0;
      return true;
    }
    this.metrics.messageDropped();
    if (++this.skippedInARow >= SKIPS_BEFORE_CLOSE) this.terminateAsSlow();
    return false;
  }

  closed(code: number, reason: string): void {
    this.released();
    this.metrics.clientClosed(this.closing ?? (code === 1006 && reason.startsWith(PROTOCOL_VIOLATION_PREFIX) ? 'protocol' : 'client'));
  }

  private refuseMessage(error: string): void {
    const verdict = this.badMessages.next();
    if (verdict === 'answer') this.sendIfAdmitted(errorMessage(error));
    else if (verdict === 'close') {
      this.closeFor('policy', CLOSE_POLICY_VIOLATION, `more than ${MAX_BAD_MESSAGES_PER_INTERVAL} unusable messages within one collection interval`);
    }
  }

  private sendIfAdmitted(message: string): boolean {
    if (!this.admits(this.client.bufferedBytes())) return false;
    this.client.send(message);
    return true;
  }

  /** A close frame would only queue behind what the client does not read: the connection is dropped. */
  private terminateAsSlow(): void {
    if (this.closing) return;
    this.closing = 'slow';
    this.client.terminate();
  }

  private closeFor(reason: DisconnectReason, code: number, text: string): void {
    if (this.closing) return;
    this.closing = reason;
    this.client.close(code, text);
  }
}

/** GET /stream as a WebSocket endpoint: `?sources=a,b` picks the initial subscriptions (default: all). */
export function streamRoute(publisher: LivePublisher, metrics: LiveMetrics, config: Config, clock: Clock = systemClock): WebSocketRoute {
  const maxBufferedBytes = config.streamMaxBufferBytes;
  const intervalMs = config.collectionIntervalSeconds * 1000;
  const caps = new LiveClientCaps(config.streamMaxClients, config.streamMaxClientsPerAddress);
  return {
    path: STREAM_PATH,
    limits: {
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      // Sessions drop messages at maxBufferedBytes; uWS refuses past it too, so what it holds
      // for a client is at most the limit plus the one message that crossed it.
      maxBufferedBytes,
      idleTimeoutSeconds: 120,
    },
    readsPeerAddress: true,
    headers: ['x-forwarded-for', SUBPROTOCOL_HEADER, 'origin', 'host'],
    handler: (request) => {
      // A web page of another site is refused before it learns anything more of the stream.
      const foreign = originRefusal({ origin: request.headers.origin ?? '', host: request.headers.host ?? '', tls: config.tls !== undefined }, config.streamAllowedOrigins);
      if (foreign) {
        metrics.clientRejected('origin');
        return json(403, { error: foreign });
      }
      const sources = parseSourcesQuery(request.query, publisher.sourceNames);
      if ('error' in sources) return json(400, sources);
      // The guard has already refused a request whose address cannot be determined.
      const resolved = clientAddress(request.remoteAddress, request.headers['x-forwarded-for'] ?? '', config.trustedProxies);
      const address = resolved ? formatIp(resolved) : request.remoteAddress;
      const refusal = caps.refusal(address);
      if (refusal) {
        metrics.clientRejected(refusal);
        return json(503, { error: refusal === 'total' ? `${STREAM_PATH} has its ${config.streamMaxClients} clients (STREAM_MAX_CLIENTS)` : `${STREAM_PATH} has ${config.streamMaxClientsPerAddress} clients from ${address} (STREAM_MAX_CLIENTS_PER_ADDRESS)` });
      }
      return {
        status: 101,
        protocol: offeredSubprotocols(request.headers[SUBPROTOCOL_HEADER] ?? '').includes(STREAM_SUBPROTOCOL) ? STREAM_SUBPROTOCOL : undefined,
        // uWS opens the socket within the upgrade callback: nothing else is admitted in between.
        open: (client) => {
          caps.opened(address);
          const session = new LiveSession(client, publisher, metrics, maxBufferedBytes, new BadMessageAllowance(clock, intervalMs), () => caps.closed(address));
          session.subscribe(sources);
          return session;
        },
      };
    },
  };
}

/** A plain GET /stream (no upgrade) gets told what the endpoint is, counted under its own route. */
export function streamUpgradeRequiredRoute(): Route {
  return {
    method: 'GET',
    path: STREAM_PATH,
    handler: () => ({
      status: 426,
      headers: { 'Content-Type': 'text/plain', Upgrade: 'websocket' },
      body: `${STREAM_PATH} is a WebSocket endpoint: connect with a WebSocket client\n`,
    }),
  };
}
