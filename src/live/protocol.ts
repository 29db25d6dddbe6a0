import type { CollectionResult } from '../source';

/**
 * The /stream wire format. Server → client, one JSON text message per source per collection:
 *   {"source":"system","timestamp":1764000000000,"up":true,"metrics":[{"name":"…","labels":{},"value":12.5}]}
 *   {"source":"redis","timestamp":1764000000000,"up":false,"error":"connect ECONNREFUSED 127.0.0.1:6379"}
 * and {"error":"…"} in answer to a client message it cannot use. The `app` source's messages also
 * carry the exporter's own `http_requests_total` (labels method, endpoint, status), so a client
 * shows request rates without scraping /metrics.
 * Client → server: {"subscribe":["mqtt"]} and/or {"unsubscribe":["redis"]}.
 */

/** Serializes one collection result; done once per result, whatever the number of clients. */
export function serializeResult(result: CollectionResult): string {
  const { source, timestamp } = result;
  if (!result.ok) return JSON.stringify({ source, timestamp, up: false, error: result.error });
  // A histogram's samples go by their own names (`_bucket`, `_sum`, `_count`).
  const metrics = result.samples.map(({ name, metricName, labels, value }) => ({ name: metricName ?? name, labels: labels ?? {}, value }));
  return JSON.stringify({ source, timestamp, up: true, metrics });
}

export function errorMessage(error: string): string {
  return JSON.stringify({ error });
}

export interface SubscriptionChange {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
}

/** A client message → the change it asks for, or what is wrong with it. */
export function parseClientMessage(text: string, knownSources: readonly string[]): SubscriptionChange | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'messages must be JSON, e.g. {"subscribe":["system"]}' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'a message must be an object with "subscribe" and/or "unsubscribe"' };
  }
  const keys = Object.keys(parsed);
  const unknownKey = keys.find((key) => key !== 'subscribe' && key !== 'unsubscribe');
  if (keys.length === 0 || unknownKey !== undefined) {
    return { error: `a message must be an object with "subscribe" and/or "unsubscribe"${unknownKey ? `, not ${JSON.stringify(unknownKey)}` : ''}` };
  }
  const change = { subscribe: [] as string[], unsubscribe: [] as string[] };
  for (const key of ['subscribe', 'unsubscribe'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
      return { error: `"${key}" must be an array of source names` };
    }
    const problem = unknownSource(value, knownSources);
    if (problem) return { error: problem };
    change[key] = value;
  }
  return change;
}

/** The `sources` query parameter (comma-separated): every known source when absent or empty. */
export function parseSourcesQuery(query: string, knownSources: readonly string[]): readonly string[] | { error: string } {
  const raw = new URLSearchParams(query).get('sources');
  if (raw === null || raw.trim() === '') return knownSources;
  const names = [...new Set(raw.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
  const problem = unknownSource(names, knownSources);
  return problem ? { error: problem } : names;
}

function unknownSource(names: readonly string[], knownSources: readonly string[]): string | undefined {
  const unknown = names.find((name) => !knownSources.includes(name));
  if (unknown === undefined) return undefined;
  return `unknown source ${JSON.stringify(unknown.slice(0, 64))}; this exporter collects ${knownSources.join(', ')}`;
}
