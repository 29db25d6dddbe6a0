import type { Registry } from 'prom-client';
import { filter, firstValueFrom, take, timeout, toArray, type Observable } from 'rxjs';
import { TYPES } from '../../src/tokens';
import { Exposition } from '../../src/metrics/exposition';
import type { CollectionResult } from '../../src/source';
import { get, parseExposition, sampleValue } from './http';
import { eventually, type RunningService } from './service';

/** Reading a running service's metrics, as a scraper or an embedding application does. */

export type Scraped = { readonly body: string } & ReturnType<typeof parseExposition>;

/** GET /metrics on `port` (a 200 is expected), parsed. */
export async function scrape(port: number): Promise<Scraped> {
  const response = await get(port, '/metrics');
  expect(response.status).toBe(200);
  return { body: response.body, ...parseExposition(response.body) };
}

/** A registry's samples as the /metrics route writes them: one exposition per registry, kept between scrapes. */
const expositions = new WeakMap<Registry, Exposition>();

export async function scrapeRegistry(registry: Registry): Promise<Map<string, number>> {
  let exposition = expositions.get(registry);
  if (!exposition) expositions.set(registry, (exposition = new Exposition(registry)));
  return parseExposition(exposition.serialize(await exposition.readFamilies(() => undefined), 'prometheus')).samples;
}

/**
 * Whose samples a test reads: a port is scraped through GET /metrics (counted as a request, like
 * any scrape); a service is read in-process through its registry's metrics(), which counts
 * nothing and passes no access control or rate limit.
 */
export type MetricsOf = number | RunningService;

export async function readSamples(of: MetricsOf): Promise<Map<string, number>> {
  if (typeof of === 'number') return (await scrape(of)).samples;
  return parseExposition(await of.container.get(TYPES.Registry).metrics()).samples;
}

export const metricValue = async (of: MetricsOf, name: string, labels: Record<string, string> = {}) => sampleValue(await readSamples(of), name, labels);

/** Waits until `name{labels}` satisfies `ok`; returns the value. */
export async function waitForMetric(
  of: MetricsOf,
  name: string,
  labels: Record<string, string>,
  ok: (value: number | undefined) => boolean,
  what: string,
  attempts?: number,
  pauseMs?: number,
): Promise<number | undefined> {
  const { value } = await eventually(
    async () => {
      const current = await metricValue(of, name, labels);
      return ok(current) ? { value: current } : undefined;
    },
    what,
    attempts,
    pauseMs,
  );
  return value;
}

/** Waits until `collector_up{source}` reads `up`. */
export const waitUntilUp = (of: MetricsOf, source: string, up: 0 | 1 = 1) =>
  waitForMetric(of, 'collector_up', { source }, (value) => value === up, `collector_up{source="${source}"} == ${up}`);

/** Resolves after `count` more successful collections of `source` have finished. */
export async function collectionsOf(of: MetricsOf, source: string, count: number): Promise<void> {
  const labels = { source };
  let last = (await metricValue(of, 'collector_last_success_timestamp_seconds', labels)) ?? 0;
  for (let seen = 0; seen < count; seen++) {
    last = (await waitForMetric(of, 'collector_last_success_timestamp_seconds', labels, (value) => (value ?? 0) > last, `a collection of ${source}`))!;
  }
}

/** The source's entry in GET /health. */
export async function sourceHealth(port: number, source: string): Promise<{ up: boolean; error?: string }> {
  return (JSON.parse((await get(port, '/health')).body) as { sources: Record<string, { up: boolean; error?: string }> }).sources[source]!;
}

/** Every collection result of `source`, as the engine publishes them to its sinks. */
export function resultsOf(service: RunningService, source: string): Observable<CollectionResult> {
  return service.container.get(TYPES.CollectionEngine).results$.pipe(filter((result) => result.source === source));
}

/** The next `count` collections of `source`, whatever their outcome; fails after 5 s a collection. */
export const nextResults = (service: RunningService, source: string, count: number): Promise<CollectionResult[]> =>
  firstValueFrom(resultsOf(service, source).pipe(take(count), toArray(), timeout(count * 5000)));
