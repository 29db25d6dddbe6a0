import { inject, injectable, multiInject } from 'inversify';
import { TYPES } from '../tokens';
import type { HttpServer } from '../http/http-server';
import type { CollectionSink } from '../collection';
import type { CollectionResult, MetricSource } from '../source';
import type { LiveMetrics } from './live-metrics';
import { serializeResult } from './protocol';

/** Fan-out by topic, the HTTP server's; the publisher knows nothing more of it. */
export type LiveTransport = Pick<HttpServer, 'publish' | 'bufferedBytes'>;

/** A source's last message; `collection` numbers results in the order they came, so a session can tell a new one from one it sent. */
export interface LatestMessage {
  readonly message: string;
  readonly collection: number;
}

/** A result serialized when first read: with no client connected, most never are. */
class LatestResult implements LatestMessage {
  private serialized?: string;

  constructor(
    private result: CollectionResult | undefined,
    readonly collection: number,
  ) {}

  get message(): string {
    if (this.serialized === undefined) {
      this.serialized = serializeResult(this.result!);
      this.result = undefined;
    }
    return this.serialized;
  }
}

/** The topic a source's messages are published under. */
export function sourceTopic(source: string): string {
  return `source/${source}`;
}

/**
 * The live stream's collection sink: serializes each result once, publishes it under its
 * source's topic, and keeps it as that source's latest message for clients that subscribe later.
 * While no client is connected nothing is serialized (it was a tenth of a collection's CPU) until
 * a client that connects asks for the latest message.
 */
@injectable()
export class LivePublisher implements CollectionSink {
  readonly sourceNames: readonly string[];
  private readonly latestMessages = new Map<string, LatestMessage>();
  private collections = 0;

  constructor(
    @inject(TYPES.LiveTransport) private readonly transport: LiveTransport,
    @multiInject(TYPES.MetricSource) sources: readonly MetricSource[],
    @inject(TYPES.LiveMetrics) private readonly clients: Pick<LiveMetrics, 'connectedClients'>,
  ) {
    this.sourceNames = sources.map((source) => source.name);
  }

  apply(result: CollectionResult): void {
    const latest = new LatestResult(result, ++this.collections);
    this.latestMessages.set(result.source, latest);
    if (this.clients.connectedClients > 0) this.transport.publish(sourceTopic(result.source), latest.message);
  }

  /** The last message of `source`, or undefined before its first collection. */
  latest(source: string): LatestMessage | undefined {
    return this.latestMessages.get(source);
  }
}
