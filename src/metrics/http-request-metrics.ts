import { inject, injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { TYPES } from '../tokens';
import { registerCountFamily } from './http/count-family';
import { RequestDurationHistogram, type RequestSeriesStore } from './http/request-duration-histogram';
import { InProgressSeries, RequestSeries, type RequestLabels } from './http/request-series';
import { RouteRecorder, type SeriesFactory } from './http/route-recorder';

export { DURATION_BUCKETS } from './http/request-series';
export type { RouteRecorder } from './http/route-recorder';

/** Methods kept as label values; anything else is counted as OTHER so junk methods add no series. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}

/** The endpoint label of every request that matched no route. */
export const UNMATCHED_ENDPOINT = '<unmatched>';

/**
 * `http_requests_total`, `http_request_duration_seconds` and `http_requests_in_progress`,
 * stored per route and rendered only when scraped.
 */
@injectable()
export class HttpRequestMetrics implements RequestSeriesStore {
  private readonly routes = new Map<string, RouteRecorder>();
  private readonly recorders: RouteRecorder[] = [];
  private readonly factory: SeriesFactory;

  constructor(@inject(TYPES.Registry) registry: Registry) {
    const forEachInProgressSeries = (visit: (series: InProgressSeries) => void) => {
      for (const { inProgress } of this.recorders) for (const one of inProgress) visit(one);
    };
    const requestLabels = ['method', 'endpoint', 'status'];
    registerCountFamily('counter', { name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: requestLabels, registry, forEachSeries: (visit) => this.forEachSeries(visit) });
    new RequestDurationHistogram('HTTP request duration, by method, route template and status', this, registry);
    registerCountFamily('gauge', { name: 'http_requests_in_progress', help: 'HTTP requests being handled, by method and route template', labelNames: ['method', 'endpoint'], registry, forEachSeries: forEachInProgressSeries });
    let requestSeries = 0;
    let inProgressSeries = 0;
    this.factory = {
      requestSeries: (method, endpoint, status) => new RequestSeries(requestSeries++, { method, endpoint, status }),
      inProgressSeries: (method, endpoint) => new InProgressSeries(inProgressSeries++, { method, endpoint }),
    };
  }

  /** The recorder for a route template; the same object for the same template. */
  route(endpoint: string): RouteRecorder {
    let recorder = this.routes.get(endpoint);
    if (!recorder) {
      recorder = new RouteRecorder(endpoint, this.factory);
      this.routes.set(endpoint, recorder);
      this.recorders.push(recorder);
    }
    return recorder;
  }

  /** `http_requests_total` now, one value per method, route template and status (the live stream carries it too). */
  requestTotals(): { readonly value: number; readonly labels: RequestLabels }[] {
    const totals: { value: number; labels: RequestLabels }[] = [];
    this.forEachSeries(({ count, labels }) => totals.push({ value: count, labels }));
    return totals;
  }

  forEachSeries(visit: (series: RequestSeries) => void): void {
    for (const { series } of this.recorders) for (const one of series) visit(one);
  }

  seriesOf({ method, endpoint, status }: RequestLabels): RequestSeries {
    return this.route(endpoint).seriesOf(method, status);
  }

  removeSeries({ method, endpoint, status }: RequestLabels): void {
    this.routes.get(endpoint)?.removeSeries(method, status);
  }

  removeAllSeries(): void {
    for (const recorder of this.recorders) recorder.removeAllSeries();
  }
}
