import type { ExposedFamily, ExposedValue } from '../exposed-metric';
import { formatLabels } from '../exposition';
import { encodeHistogramMetric } from '../protobuf-exposition';
import { RenderedPieces } from './rendered-pieces';
import type { RequestSeries } from './request-series';

type ForEachSeries = (visit: (series: RequestSeries) => void) => void;

/** The samples of every series: `_bucket` (cumulative, with `le`), `_sum` and `_count`, which carries the native histogram. */
export function requestDurationValues(name: string, forEachSeries: ForEachSeries): ExposedValue[] {
  const values: ExposedValue[] = [];
  forEachSeries((series) => {
    const { labels, sum, count, native } = series;
    series.forEachCumulativeBucket((le, value) => values.push({ metricName: `${name}_bucket`, value, labels: { ...labels, le } }));
    values.push({ metricName: `${name}_sum`, value: sum, labels }, { metricName: `${name}_count`, value: count, labels, nativeHistogram: native });
  });
  return values;
}

/**
 * The request-duration histogram as /metrics reads it: each series' lines, or its encoded
 * protobuf metric, rendered again only once a request ended in it since.
 */
export function requestDurationFamily(name: string, help: string, forEachSeries: ForEachSeries): () => ExposedFamily {
  const lines = new RenderedPieces<RequestSeries>((series) => {
    const labels = formatLabels(series.labels).slice(1, -1);
    let text = '';
    series.forEachCumulativeBucket((le, cumulative) => {
      text += `${name}_bucket{${labels},le="${le}"} ${cumulative}\n`;
    });
    return Buffer.from(`${text}${name}_sum{${labels}} ${series.sum}\n${name}_count{${labels}} ${series.count}\n`);
  });
  const metrics = new RenderedPieces<RequestSeries>((series) => {
    const points: ExposedValue[] = [];
    series.forEachCumulativeBucket((le, value) => points.push({ value, labels: { le } }));
    const { labels, sum, count, native } = series;
    return encodeHistogramMetric(labels, { points, sum, count, native });
  });
  const family: ExposedFamily = {
    name,
    help,
    type: 'histogram',
    writeRenderedSamples: (write) => forEachSeries((series) => write(lines.of(series))),
    writeEncodedMetrics: (write) => forEachSeries((series) => write(metrics.of(series))),
    // Built only for a reader of the structured form (a source selection, a test).
    get values() {
      return requestDurationValues(name, forEachSeries);
    },
  };
  return () => family;
}
