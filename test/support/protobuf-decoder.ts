/**
 * A test-only decoder of Prometheus's delimited MetricFamily protobuf, written from metrics.proto
 * apart from the encoder (a generic wire-format reader, then the field numbers), so a wrong field
 * number or wire type in the encoder shows.
 */
export interface DecodedMetric {
  labels: Record<string, string>;
  counter?: number;
  gauge?: number;
  untyped?: number;
  summary?: { count: number; sum: number; quantiles: Array<{ quantile: number; value: number }> };
  histogram?: {
    count: number;
    sum: number;
    buckets: Array<{ upperBound: number; cumulativeCount: number }>;
    schema?: number;
    zeroThreshold?: number;
    zeroCount?: number;
    positiveSpans: Array<{ offset: number; length: number }>;
    positiveDeltas: number[];
  };
}

export interface DecodedFamily {
  name: string;
  help: string;
  type: number;
  metrics: DecodedMetric[];
}

type Field = { field: number; wire: number; varint?: number; double?: number; bytes?: Buffer };

function readVarint(buffer: Buffer, at: { offset: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = buffer[at.offset++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
}

function fields(buffer: Buffer): Field[] {
  const at = { offset: 0 };
  const result: Field[] = [];
  while (at.offset < buffer.length) {
    const key = readVarint(buffer, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) result.push({ field, wire, varint: readVarint(buffer, at) });
    else if (wire === 1) {
      result.push({ field, wire, double: buffer.readDoubleLE(at.offset) });
      at.offset += 8;
    } else if (wire === 2) {
      const length = readVarint(buffer, at);
      result.push({ field, wire, bytes: buffer.subarray(at.offset, at.offset + length) });
      at.offset += length;
    } else throw new Error(`wire type ${wire} of field ${field} not expected`);
  }
  if (at.offset !== buffer.length) throw new Error('message overruns its length');
  return result;
}

const unzigzag = (value: number) => (value % 2 === 0 ? value / 2 : -(value + 1) / 2);

function packedVarints(field: Field): number[] {
  if (field.wire === 0) return [field.varint!];
  const at = { offset: 0 };
  const values: number[] = [];
  while (at.offset < field.bytes!.length) values.push(readVarint(field.bytes!, at));
  return values;
}

function decodeMetric(buffer: Buffer): DecodedMetric {
  const metric: DecodedMetric = { labels: {} };
  for (const f of fields(buffer)) {
    if (f.field === 1) {
      const pair = fields(f.bytes!);
      metric.labels[pair.find((p) => p.field === 1)!.bytes!.toString()] = pair.find((p) => p.field === 2)?.bytes?.toString() ?? '';
    } else if (f.field === 2) metric.gauge = fields(f.bytes!).find((p) => p.field === 1)?.double ?? 0;
    else if (f.field === 3) metric.counter = fields(f.bytes!).find((p) => p.field === 1)?.double ?? 0;
    else if (f.field === 5) metric.untyped = fields(f.bytes!).find((p) => p.field === 1)?.double ?? 0;
    else if (f.field === 6) continue; // timestamp_ms
    else if (f.field === 4) {
      const summary = { count: 0, sum: 0, quantiles: [] as Array<{ quantile: number; value: number }> };
      for (const s of fields(f.bytes!)) {
        if (s.field === 1) summary.count = s.varint!;
        else if (s.field === 2) summary.sum = s.double!;
        else if (s.field === 3) {
          const q = fields(s.bytes!);
          summary.quantiles.push({ quantile: q.find((p) => p.field === 1)!.double!, value: q.find((p) => p.field === 2)?.double ?? 0 });
        }
      }
      metric.summary = summary;
    } else if (f.field === 7) {
      const histogram: NonNullable<DecodedMetric['histogram']> = { count: 0, sum: 0, buckets: [], positiveSpans: [], positiveDeltas: [] };
      for (const h of fields(f.bytes!)) {
        if (h.field === 1) histogram.count = h.varint!;
        else if (h.field === 2) histogram.sum = h.double!;
        else if (h.field === 3) {
          const b = fields(h.bytes!);
          histogram.buckets.push({ cumulativeCount: b.find((p) => p.field === 1)?.varint ?? 0, upperBound: b.find((p) => p.field === 2)!.double! });
        } else if (h.field === 5) histogram.schema = unzigzag(h.varint!);
        else if (h.field === 6) histogram.zeroThreshold = h.double!;
        else if (h.field === 7) histogram.zeroCount = h.varint!;
        else if (h.field === 12) {
          const span = fields(h.bytes!);
          histogram.positiveSpans.push({ offset: unzigzag(span.find((p) => p.field === 1)?.varint ?? 0), length: span.find((p) => p.field === 2)?.varint ?? 0 });
        } else if (h.field === 13) histogram.positiveDeltas.push(...packedVarints(h).map(unzigzag));
        else throw new Error(`Histogram field ${h.field} not expected`);
      }
      metric.histogram = histogram;
    } else throw new Error(`Metric field ${f.field} not expected`);
  }
  return metric;
}

/** Every delimited MetricFamily of a body. */
export function decodeMetricFamilies(body: Buffer): DecodedFamily[] {
  const families: DecodedFamily[] = [];
  const at = { offset: 0 };
  while (at.offset < body.length) {
    const length = readVarint(body, at);
    const message = body.subarray(at.offset, at.offset + length);
    at.offset += length;
    const family: DecodedFamily = { name: '', help: '', type: 0, metrics: [] };
    for (const f of fields(message)) {
      if (f.field === 1) family.name = f.bytes!.toString();
      else if (f.field === 2) family.help = f.bytes!.toString();
      else if (f.field === 3) family.type = f.varint!;
      else if (f.field === 4) family.metrics.push(decodeMetric(f.bytes!));
      else throw new Error(`MetricFamily field ${f.field} not expected`);
    }
    families.push(family);
  }
  return families;
}

/** The native histogram's buckets as absolute counts by bucket index. */
export function nativeBuckets(histogram: NonNullable<DecodedMetric['histogram']>): Map<number, number> {
  const buckets = new Map<number, number>();
  let index = 0;
  let count = 0;
  let d = 0;
  histogram.positiveSpans.forEach((span, spanNumber) => {
    index = spanNumber === 0 ? span.offset : index + span.offset;
    for (let k = 0; k < span.length; k++) {
      count += histogram.positiveDeltas[d++]!;
      if (count !== 0) buckets.set(index, count);
      index++;
    }
  });
  if (d !== histogram.positiveDeltas.length) throw new Error(`${histogram.positiveDeltas.length} deltas for ${d} buckets`);
  return buckets;
}
