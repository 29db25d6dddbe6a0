import { inject, injectable } from 'inversify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { TYPES } from '../tokens';
import { CAP_REASONS } from './client-caps';
import type { LiveTransport } from './publisher';

/**
 * Why a stream client left: on its own (or its network, or the idle timeout), too slow, a protocol
 * violation, or too many messages the stream cannot use (policy).
 */
export const DISCONNECT_REASONS = ['client', 'slow', 'protocol', 'policy'] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/** Why a stream upgrade is refused: a cap (503), or a web page origin that may not read the stream (403). */
export const REJECT_REASONS = [...CAP_REASONS, 'origin'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The live stream's own metrics, in the injected Registry. */
@injectable()
export class LiveMetrics {
  private readonly clients: Gauge;
  private readonly dropped: Counter;
  private readonly disconnected: Counter<'reason'>;
  private readonly rejected: Counter<'reason'>;
  private openClients = 0;

  constructor(
    @inject(TYPES.Registry) registry: Registry,
    @inject(TYPES.LiveTransport) transport: LiveTransport,
  ) {
    const registers = [registry];
    this.clients = new Gauge({ name: 'stream_clients', help: 'WebSocket clients connected to /stream', registers });
    this.dropped = new Counter({
      name: 'stream_messages_dropped_total',
      help: 'Stream messages not sent to a client because it had more than STREAM_MAX_BUFFER_BYTES waiting',
      registers,
    });
    this.disconnected = new Counter({
      name: 'stream_clients_disconnected_total',
      help: 'Stream clients gone, by reason: client (closed by it, its network or the idle timeout), slow (too far behind), protocol (a message it may not send), policy (too many unusable messages in one collection interval)',
      labelNames: ['reason'],
      registers,
    });
    this.rejected = new Counter({
      name: 'stream_clients_rejected_total',
      help: 'Stream upgrades refused, by reason: total (503, STREAM_MAX_CLIENTS reached), address (503, STREAM_MAX_CLIENTS_PER_ADDRESS reached), origin (403, a web page of an origin not allowed)',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'stream_buffered_bytes',
      help: 'Bytes written to stream clients and not yet taken by them, summed over clients',
      registers,
      collect() {
        this.set(transport.bufferedBytes());
      },
    });
    for (const reason of DISCONNECT_REASONS) this.disconnected.inc({ reason }, 0);
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
  }

  clientRejected(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  /** Clients connected now: stream_clients, without a promise. */
  get connectedClients(): number {
    return this.openClients;
  }

  clientOpened(): void {
    this.openClients++;
    this.clients.inc();
  }

  clientClosed(reason: DisconnectReason): void {
    this.openClients--;
    this.clients.dec();
    this.disconnected.inc({ reason });
  }

  messageDropped(): void {
    this.dropped.inc();
  }
}
