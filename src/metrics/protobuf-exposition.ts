import type { ExposedFamily, ExposedLabels, ExposedValue } from './exposed-metric';
import { copySamples, sameSamples } from './exposition';
import { NATIVE_SCHEMA, ZERO_THRESHOLD, type NativeHistogram } from './native-histogram';
import { ProtobufWriter, VARINT, zigzag } from './protobuf-writer';

/**
 * Prometheus's protobuf exposition: varint-length-delimited `io.prometheus.client.MetricFamily`
 * messages. Written by hand from the field numbers of Prometheus's metrics.proto
 * (prompb/io/prometheus/client/metrics.proto), which are all it takes: five small messages,
 * written, never read, so a protobuf library and its generated code would add a dependency for
 * forty lines (README "Scraping").
 */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** MetricType: COUNTER 0, GAUGE 1, SUMMARY 2, UNTYPED 3, HISTOGRAM 4. */
const METRIC_TYPE = { counter: 0, gauge: 1, summary: 2, histogram: 4 } as const;


/**
 * Writes scrapes in protobuf. One writer is reused (an encoding runs to its end without a turn of
 * the event loop), and the body is copied out into a buffer of the caller's: a new, growing
 * buffer of a few hundred kilobytes per scrape was garbage enough to show in the latency tail.
 */
export class ProtobufEncoder {
  private readonly writer = new ProtobufWriter();
  /**
   * The last encoding of each family's series, by family name, with a copy of the samples it was
   * made from: reused while they are equal, as the text formats reuse their lines. A native
   * histogram changes only with its `_count`, so equal samples mean an equal encoding.
   */
  private readonly encodedSeries = new Map<string, { samples: readonly ExposedValue[]; help: string; bytes: Buffer }>();

  /** Families as delimited MetricFamily messages; a family without samples is left out, as in the text formats. */
  encode(families: readonly ExposedFamily[], allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const writer = this.writer;
    writer.reset();
    for (const family of families) {
      if (family.writeEncodedMetrics) writeFamily(writer, family);
      else writer.raw(this.encodedFamily(family));
    }
    const bytes = writer.bytes();
    const target = allocate(bytes.length);
    bytes.copy(target);
    return target.subarray(0, bytes.length);
  }

  /** A whole delimited MetricFamily, from the cache when its samples did not change. */
  private encodedFamily(family: ExposedFamily): Buffer {
    const values = family.values;
    const cached = this.encodedSeries.get(family.name);
    if (cached && cached.help === family.help && sameSamples(cached.samples, values)) return cached.bytes;
    const writer = new ProtobufWriter(1024);
    writeFamily(writer, { ...family, values });
    const bytes = Buffer.from(writer.bytes());
    this.encodedSeries.set(family.name, { samples: copySamples(values), help: family.help, bytes });
    return bytes;
  }
}

function writeFamily(writer: ProtobufWriter, family: ExposedFamily): void {
  writer.begin();
  writer.stringField(1, family.name);
  writer.stringField(2, family.help);
  writer.varintField(3, METRIC_TYPE[family.type]);
  let metrics = 0;
  if (family.writeEncodedMetrics) {
    family.writeEncodedMetrics((metric) => {
      writer.raw(metric);
      metrics++;
    });
  } else {
    const values = family.values; // a getter may build them: read once
    metrics = values.length;
    if (family.type === 'histogram' || family.type === 'summary') writeGroupedMetrics(writer, family.type, family.name, values);
    else for (const { labels, value } of values) writeMetric(writer, labels, () => writeValue(writer, family.type === 'counter' ? 3 : 2, value));
  }
  if (metrics > 0) writer.end();
  else writer.abandon();
}

/** One counter or gauge series as a `metric` field of its MetricFamily, for a family's writeEncodedMetrics. */
export function encodeValueMetric(type: 'counter' | 'gauge', labels: ExposedLabels, value: number): Buffer {
  const writer = new ProtobufWriter(256);
  writeMetric(writer, labels, () => writeValue(writer, type === 'counter' ? 3 : 2, value));
  return Buffer.from(writer.bytes());
}

/** One histogram series (classic buckets as `_bucket` samples with `le`, and its native histogram) as a `metric` field. */
export function encodeHistogramMetric(labels: ExposedLabels, series: Omit<GroupedSeries, 'labels'>): Buffer {
  const writer = new ProtobufWriter(1024);
  writeMetric(writer, labels, () => writeHistogram(writer, { ...series, labels }));
  return Buffer.from(writer.bytes());
}

function writeMetric(writer: ProtobufWriter, labels: ExposedLabels, writeBody: () => void, leaveOut?: string): void {
  writer.begin();
  for (const name in labels) {
    if (name === leaveOut) continue;
    writer.begin();
    writer.stringField(1, name);
    writer.stringField(2, String(labels[name]));
    writer.end(1);
  }
  writeBody();
  writer.end(4);
}

/** Counter and Gauge messages both hold their value in field 1. */
function writeValue(writer: ProtobufWriter, field: number, value: number): void {
  writer.begin();
  writer.doubleField(1, value);
  writer.end(field);
}

/** One series of a histogram or summary: its `_bucket`/quantile samples, `_sum` and `_count`. */
export interface GroupedSeries {
  labels: ExposedLabels;
  readonly points: readonly ExposedValue[];
  sum: number;
  count: number;
  native?: NativeHistogram;
}

function writeGroupedMetrics(writer: ProtobufWriter, type: 'histogram' | 'summary', name: string, values: readonly ExposedValue[]): void {
  const histogram = type === 'histogram';
  const pointLabel = histogram ? 'le' : 'quantile';
  const series = new Map<string, GroupedSeries & { points: ExposedValue[] }>();
  for (const value of values) {
    const key = seriesKey(value.labels, pointLabel);
    let group = series.get(key);
    if (!group) series.set(key, (group = { labels: value.labels, points: [], sum: 0, count: 0 }));
    const suffix = value.metricName?.slice(name.length) ?? '';
    if (suffix === '_sum') group.sum = value.value;
    else if (suffix === '_count') {
      group.count = value.value;
      group.native = value.nativeHistogram;
      group.labels = value.labels;
    } else group.points.push(value);
  }
  for (const group of series.values()) {
    writeMetric(writer, group.labels, () => (histogram ? writeHistogram(writer, group) : writeSummary(writer, group)), pointLabel);
  }
}

function writeHistogram(writer: ProtobufWriter, { points, sum, count, native }: GroupedSeries): void {
  writer.begin();
  writer.varintField(1, count);
  writer.doubleField(2, sum);
  for (const { labels, value } of points) {
    const bound = Number(labels.le === '+Inf' ? Infinity : labels.le);
    if (bound === Infinity) continue; // the +Inf bucket is the count
    writer.begin();
    writer.varintField(1, value);
    writer.doubleField(2, bound);
    writer.end(3);
  }
  if (native) {
    writer.tag(5, VARINT);
    writer.varint(zigzag(NATIVE_SCHEMA));
    writer.doubleField(6, ZERO_THRESHOLD);
    writer.varintField(7, native.zeroCount);
    const { spans, deltas } = native.positiveBuckets();
    for (const { offset, length } of spans) {
      writer.begin();
      writer.tag(1, VARINT);
      writer.varint(zigzag(offset));
      writer.varintField(2, length);
      writer.end(12);
    }
    if (deltas.length > 0) {
      writer.begin();
      for (const delta of deltas) writer.varint(zigzag(delta));
      writer.end(13);
    }
  }
  writer.end(7);
}

function writeSummary(writer: ProtobufWriter, { points, sum, count }: GroupedSeries): void {
  writer.begin();
  writer.varintField(1, count);
  writer.doubleField(2, sum);
  for (const { labels, value } of points) {
    writer.begin();
    writer.doubleField(1, Number(labels.quantile));
    writer.doubleField(2, value);
    writer.end(3);
  }
  writer.end(4);
}

/** The series' labels but `leaveOut`, as one string. */
function seriesKey(labels: ExposedLabels, leaveOut: string): string {
  let key = '';
  for (const name in labels) if (name !== leaveOut) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}
