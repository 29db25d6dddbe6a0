// Recording stand-ins for the live stream's transport and clients, and collection results, for the live-session unit tests.
import { Registry } from 'prom-client';
import type { WebSocketClient } from '../../src/http/websocket-route';
import type { LiveTransport } from '../../src/live/publisher';
import type { CollectionResult, MetricSource } from '../../src/source';
import { of } from 'rxjs';

/** A transport that records what it is asked to publish. */
export class RecordingTransport implements LiveTransport {
  readonly published: Array<[string, string]> = [];
  publish(topic: string, message: string): void {
    this.published.push([topic, message]);
  }
  bufferedBytes(): number {
    return 0;
  }
}

/** A client whose backlog the test sets, recording what the session does with it. */
export class RecordingClient implements WebSocketClient {
  readonly topics = new Set<string>();
  readonly sent: string[] = [];
  closedWith?: [number, string];
  terminated = false;
  backlog = 0;
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  send(message: string): void {
    this.sent.push(message);
  }
  bufferedBytes(): number {
    return this.backlog;
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  terminate(): void {
    this.terminated = true;
  }
}

export const source = (name: string): MetricSource => ({ name, metrics: [], collect: () => of([]) });
export const result = (name: string, value: number): CollectionResult => ({
  source: name,
  timestamp: 1000,
  durationSeconds: 0,
  ok: true,
  samples: [{ name: `${name}_value`, value }],
});

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((entry) => Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value;
}

/** The collection interval of the sessions below, on a clock the test moves. */
export const INTERVAL_MS = 1000;
