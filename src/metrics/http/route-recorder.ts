import type { InProgressSeries, RequestSeries } from './request-series';

/** Makes the series of a route, numbered and tied to the families that expose them. */
export interface SeriesFactory {
  requestSeries(method: string, endpoint: string, status: string): RequestSeries;
  inProgressSeries(method: string, endpoint: string): InProgressSeries;
}

/**
 * The request recorder of one route template. The server resolves it once, when the route is
 * registered; per request it costs two small-map lookups and no label hashing.
 */
export class RouteRecorder {
  private readonly seriesByKey = new Map<string, RequestSeries>();
  private readonly inProgressByMethod = new Map<string, InProgressSeries>();
  /** Both again as arrays, in order of first use: a scrape walks them without allocating an iterator. */
  readonly series: RequestSeries[] = [];
  readonly inProgress: InProgressSeries[] = [];

  constructor(
    readonly endpoint: string,
    private readonly factory: SeriesFactory,
  ) {}

  /** A request of this route started. `method` must come from methodLabel(). */
  begin(method: string): void {
    this.inProgressOf(method).count++;
  }

  /** The request was answered with `status` after `seconds`. */
  end(method: string, status: number, seconds: number): void {
    this.inProgressOf(method).count--;
    this.seriesOf(method, status).observe(seconds);
  }

  /** The request ended without an answer (client gone): it leaves the in-progress count only. */
  abort(method: string): void {
    this.inProgressOf(method).count--;
  }

  /** The answered requests of `method` with `status`, made empty if there are none. */
  seriesOf(method: string, status: number | string): RequestSeries {
    const key = `${method} ${status}`;
    let series = this.seriesByKey.get(key);
    if (!series) {
      series = this.factory.requestSeries(method, this.endpoint, String(status));
      this.seriesByKey.set(key, series);
      this.series.push(series);
    }
    return series;
  }

  removeSeries(method: string, status: number | string): void {
    const key = `${method} ${status}`;
    const series = this.seriesByKey.get(key);
    if (!series) return;
    this.seriesByKey.delete(key);
    this.series.splice(this.series.indexOf(series), 1);
  }

  removeAllSeries(): void {
    this.seriesByKey.clear();
    this.series.length = 0;
  }

  private inProgressOf(method: string): InProgressSeries {
    let series = this.inProgressByMethod.get(method);
    if (!series) {
      series = this.factory.inProgressSeries(method, this.endpoint);
      this.inProgressByMethod.set(method, series);
      this.inProgress.push(series);
    }
    return series;
  }
}
