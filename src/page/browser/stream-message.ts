/** The /stream messages the page reads (src/live/protocol.ts describes them), and how to read them. */
namespace LivePage {
  export interface StreamMetric {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly value: number;
  }

  export interface SourceMessage {
    readonly source: string;
    readonly timestamp: number;
    readonly up: boolean;
    readonly metrics?: readonly StreamMetric[];
    readonly error?: string;
  }

  /** A source's state as /health reports it. */
  export interface SourceHealth {
    readonly up: boolean;
    readonly standby?: boolean;
    readonly error?: string;
    readonly lastSuccess?: string;
  }

  /** A text frame → a source's message; anything else (an error frame, malformed JSON) → its reason. */
  export function parseSourceMessage(data: unknown): SourceMessage | { readonly problem: string } {
    if (typeof data !== 'string') return { problem: 'a binary frame' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return { problem: 'a frame that is not JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null) return { problem: 'a frame that is not an object' };
    const message = parsed as Partial<SourceMessage> & { error?: unknown };
    if (typeof message.source === 'string' && typeof message.timestamp === 'number' && typeof message.up === 'boolean') return message as SourceMessage;
    return { problem: typeof message.error === 'string' ? `the server said: ${message.error}` : 'a frame without a source' };
  }

  export function find(message: SourceMessage, name: string, labels: Readonly<Record<string, string>> = {}): StreamMetric | undefined {
    return (message.metrics ?? []).find((metric) => metric.name === name && Object.keys(labels).every((key) => metric.labels[key] === labels[key]));
  }

  export function value(message: SourceMessage, name: string, labels?: Readonly<Record<string, string>>): number | undefined {
    return find(message, name, labels)?.value;
  }

  /** The sum of every series of `name`, or undefined when the message has none. */
  export function sum(message: SourceMessage, name: string): number | undefined {
    const series = (message.metrics ?? []).filter((metric) => metric.name === name);
    return series.length === 0 ? undefined : series.reduce((total, metric) => total + metric.value, 0);
  }

  /** Counter readings kept between collections, by key. */
  export type CounterMemory = Record<string, { readonly total: number | undefined; readonly at: number } | undefined>;

  /** Per second since the previous reading of the same counter; undefined for the first, or after a reset. */
  export function perSecond(memory: CounterMemory, key: string, total: number | undefined, timestampMs: number): number | undefined {
    const previous = memory[key];
    memory[key] = { total, at: timestampMs };
    if (total === undefined || !previous || previous.total === undefined || total < previous.total || timestampMs <= previous.at) return undefined;
    return (total - previous.total) / ((timestampMs - previous.at) / 1000);
  }
}
