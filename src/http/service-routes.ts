import type { Registry } from 'prom-client';
import type { HealthState } from '../health';
import { errorText } from '../error-text';
import type { Logger } from '../logger';
import { ReportedOnce } from '../report-once';
import { Exposition, negotiateFormat, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, type ScrapeFormat } from '../metrics/exposition';
import { ProtobufEncoder, PROTOBUF_CONTENT_TYPE } from '../metrics/protobuf-exposition';
import { familyOwnersOf, parseSourceSelection, type SourceSelection } from '../metrics/source-selection';
import { BufferPool } from './buffer-pool';
import { acceptsGzip, GzipBodies } from './gzip-bodies';
import { json, type Route } from './route-table';
import type { LoadedEngine } from './http-engines';

/** Scrape bodies kept for reuse: enough for a few scrapers at once (an HA pair, a federation, a curl). */
const REUSED_BODIES = 4;

/** Kinds of gzipped scrape (format × source selection) whose last body is kept: a few jobs' worth. */
const GZIPPED_SELECTIONS = 8;

/**
 * GET /metrics: what the engine last collected plus the request metrics; never waits on a source.
 * `?collect[]=name` serves only the named sources, `?exclude[]=name` all but those (see source-selection.ts);
 * `sourceNames` are the names a selection may use.
 */
export function metricsRoute(registry: Registry, logger: Logger, sourceNames: readonly string[]): Route {
  // Keyed by metric name: an application registering metrics as it goes could have any number.
  const reported = new ReportedOnce();
  const onError = (name: string, error: unknown) => {
    if (!reported.firstTime(name)) return;
    logger.error(`metric ${name} failed to collect and is left out of /metrics: ${errorText(error)}`);
  };
  const exposition = new Exposition(registry);
  const protobuf = new ProtobufEncoder();
  const bodies = new BufferPool(REUSED_BODIES);
  const owners = familyOwnersOf(registry);
  /**
   * By format and source selection, the least recently used dropped first: each keeps a copy of its
   * last plain body (~600 KB), and a scraper varying `collect[]` must not make them pile up.
   */
  const gzipBodies = new Map<string, GzipBodies>();
  return {
    method: 'GET',
    path: '/metrics',
    headers: ['accept', 'accept-encoding'],
    handler: async (request) => {
      let selection: SourceSelection | undefined;
      try {
        selection = parseSourceSelection(request.query, sourceNames, owners);
      } catch (error) {
        return { status: 400, headers: { 'Content-Type': 'text/plain' }, body: `${errorText(error)}\n` };
      }
      const format = negotiateFormat(request.headers.accept);
      const render = async () => {
        let buffer: Buffer | undefined;
        const allocate = (bytes: number) => (buffer = bodies.acquire(bytes));
        const families = await exposition.readFamilies(onError, selection);
        const body = format === 'protobuf' ? protobuf.encode(families, allocate) : exposition.serializeToBuffer(families, format, allocate);
        return { body, done: () => bodies.release(buffer!) };
      };
      if (acceptsGzip(request.headers['accept-encoding'] ?? '')) {
        const key = `${format} ${selection?.key ?? 'all'}`;
        const gzipped = gzipBodies.get(key) ?? new GzipBodies();
        gzipBodies.delete(key);
        gzipBodies.set(key, gzipped);
        if (gzipBodies.size > GZIPPED_SELECTIONS) gzipBodies.delete(gzipBodies.keys().next().value!);
        return { status: 200, headers: GZIP_HEADERS[format], body: await gzipped.get(render) };
      }
      const { body, done } = await render();
      return { status: 200, headers: PLAIN_HEADERS[format], body, released: done };
    },
  };
}

const CONTENT_TYPES = { prometheus: PROMETHEUS_CONTENT_TYPE, openmetrics: OPENMETRICS_CONTENT_TYPE, protobuf: PROTOBUF_CONTENT_TYPE } as const;
/** The reply varies with both negotiated headers, for any cache on the way. */
const PLAIN_HEADERS = mapFormats((format) => ({ 'Content-Type': CONTENT_TYPES[format], Vary: 'Accept, Accept-Encoding' }));
const GZIP_HEADERS = mapFormats((format) => ({ ...PLAIN_HEADERS[format], 'Content-Encoding': 'gzip' }));

function mapFormats<T>(make: (format: ScrapeFormat) => T): Record<ScrapeFormat, T> {
  return { prometheus: make('prometheus'), openmetrics: make('openmetrics'), protobuf: make('protobuf') };
}

/** GET /health: the exporter's own liveness (always 200 while it serves) and each source's state. */
export function healthRoute(health: HealthState, engine: LoadedEngine): Route {
  const server = engine.description;
  const named = { name: engine.name, version: engine.version };
  return {
    method: 'GET',
    path: '/health',
    handler: () => json(200, { ...health.report(), server, engine: named }),
  };
}
