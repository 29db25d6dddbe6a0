import type { Histogram, Registry } from 'prom-client';
import type { SourceSelection } from './source-selection';
import { exposedFamilyOf, familySourceOf, type ExposedFamily, type ExposedLabels, type ExposedType, type ExposedValue } from './exposed-metric';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The text formats, which this class writes; protobuf-exposition.ts writes the third. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';
export type ScrapeFormat = ExpositionFormat | 'protobuf';

/**
 * Protobuf when the scraper's `Accept` prefers it (a q at least that of anything else it names:
 * Prometheus with native histograms on), else OpenMetrics when it asks for it, as Prometheus does
 * by default, else the text format 0.0.4.
 */
export function negotiateFormat(accept: string): ScrapeFormat {
  let protobuf = 0;
  let other = 0;
  for (const range of accept.split(',')) {
    const [mediaType = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (mediaType === '') continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2)) || 0;
    const isProtobuf = mediaType === 'application/vnd.google.protobuf' && parameters.includes('proto=io.prometheus.client.metricfamily') && parameters.includes('encoding=delimited');
    if (isProtobuf) protobuf = Math.max(protobuf, quality);
    else other = Math.max(other, quality);
  }
  if (protobuf > 0 && protobuf >= other) return 'protobuf';
  return accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}

const OPENMETRICS_EOF = Buffer.from('# EOF\n');

/** A rendering of a family's samples, with a copy of the samples it was rendered from. */
interface RenderedSamples {
  readonly samples: readonly ExposedValue[];
  readonly lines: Buffer;
}

/** `# HELP` and `# TYPE` lines, encoded, with the help and type they were rendered from. */
interface RenderedHeader {
  readonly help: string;
  readonly type: ExposedType;
  readonly lines: Buffer;
}

/**
 * The exposition of one registry: reads its families and writes them in either format, keeping
 * each rendering for the next scrape. The renderings belong to this registry's exposition: another
 * registry's family of the same name neither reuses nor replaces them.
 */
export class Exposition {
  /**
   * The last rendering of each family's samples, by format and family name. A family whose samples
   * are equal to the copy (a source's family between collections of its source; a prom-client
   * metric whose numbers did not move) is not formatted again: formatting them at every scrape made
   * garbage enough for V8 to collect dozens of times a second under load, most of the tail of
   * /metrics latency (bench/). A copy, because prom-client hands out its live value objects and
   * changes them in place.
   */
  private readonly renderedSamples: Record<ExpositionFormat, Map<string, RenderedSamples>> = { prometheus: new Map(), openmetrics: new Map() };
  /** Header lines by format and family name; rendered again if help or type change. */
  private readonly renderedHeaders: Record<ExpositionFormat, Map<string, RenderedHeader>> = { prometheus: new Map(), openmetrics: new Map() };

  /**
   * The pieces of the scrape being serialized, emptied after each: kept, because at thousands of
   * scrapes a second a new array per scrape was garbage enough to show in the latency tail, and
   * walking the families twice instead (once to size the body, once to copy) doubled the work of
   * every scrape.
   */
  private readonly pieces: Buffer[] = [];

  constructor(private readonly registry: Registry) {}

  /**
   * Reads every family in the registry. Unlike `registry.metrics()`, which rejects whole when one
   * metric's collect() throws, a failing metric is left out and reported, and the rest is served.
   * Our own metrics answer without a promise; others are read as prom-client reads them, through
   * the reading /metrics reuses when they have one. With a `selection`, only the selected sources'
   * families and series are read.
   */
  async readFamilies(onError: (name: string, error: unknown) => void, selection?: SourceSelection): Promise<ExposedFamily[]> {
    const families: ExposedFamily[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      if (selection && !selection.readsFamily(metric.name)) continue;
      try {
        const reading = familySourceOf(metric)?.get() ?? readPromClientMetric(metric);
        const family = isPromise(reading) ? await reading : reading;
        families.push(selection ? selection.restrict(family) : family);
      } catch (error) {
        onError(metric.name, error);
      }
    }
    return families;
  }

  /** Serializes families in the Prometheus text format 0.0.4 or OpenMetrics 1.0. */
  serialize(families: readonly ExposedFamily[], format: ExpositionFormat): string {
    return this.serializeToBuffer(families, format).toString('utf8');
  }

  /**
   * The exposition as UTF-8 bytes, for the HTTP reply. Every piece is kept encoded where it is
   * rendered, so a scrape only copies them into one buffer: encoding half a megabyte of text per
   * scrape was the largest cost of /metrics under load (measured in bench/). `allocate` may hand out
   * a larger, reused buffer; the exposition is the start of it.
   */
  serializeToBuffer(families: readonly ExposedFamily[], format: ExpositionFormat, allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const pieces = this.pieces;
    let bytes = 0;
    try {
      this.writePieces(families, format, (piece) => {
        pieces.push(piece);
        bytes += piece.length;
      });
      const target = allocate(bytes);
      let offset = 0;
      for (const piece of pieces) offset += piece.copy(target, offset);
      return target.subarray(0, bytes);
    } finally {
      pieces.length = 0;
    }
  }

  /** Passes the exposition to `write` as encoded pieces of whole lines, in order. */
  private writePieces(families: readonly ExposedFamily[], format: ExpositionFormat, write: (piece: Buffer) => void): void {
    // A family's header is written before its first sample, so a family without samples has none.
    let pendingHeader: Buffer | undefined;
    const writeSample = (lines: Buffer) => {
      if (pendingHeader) {
        write(pendingHeader);
        pendingHeader = undefined;
      }
      write(lines);
    };
    for (const family of families) {
      pendingHeader = this.headerOf(family, format);
      if (family.writeRenderedSamples) family.writeRenderedSamples(writeSample);
      else {
        const lines = this.samplesOf(family, format);
        if (lines) writeSample(lines);
      }
    }
    if (format === 'openmetrics') write(OPENMETRICS_EOF);
  }

  private headerOf({ name, help, type }: ExposedFamily, format: ExpositionFormat): Buffer {
    const cache = this.renderedHeaders[format];
    const cached = cache.get(name);
    if (cached && cached.help === help && cached.type === type) return cached.lines;
    const openMetrics = format === 'openmetrics';
    // OpenMetrics names a counter family without its _total suffix and its sample with it.
    const familyName = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    const lines = Buffer.from(`# HELP ${familyName} ${escapeHelp(help, openMetrics)}\n# TYPE ${familyName} ${type}\n`);
    cache.set(name, { help, type, lines });
    return lines;
  }

  private samplesOf(family: ExposedFamily, format: ExpositionFormat): Buffer | undefined {
    const { name, type, values } = family;
    if (values.length === 0) return undefined;
    const cache = this.renderedSamples[format];
    const previous = cache.get(name);
    if (previous && sameSamples(previous.samples, values)) return previous.lines;
    const counterName = format === 'openmetrics' && type === 'counter' ? `${name.replace(/_total$/, '')}_total` : name;
    let text = '';
    for (const { metricName, labels, value } of values) text += `${metricName ?? counterName}${formatLabels(labels)} ${formatValue(value)}\n`;
    const lines = Buffer.from(text);
    cache.set(name, { samples: copySamples(values), lines });
    return lines;
  }
}

/** A copy to compare later samples with: prom-client changes its value objects in place. */
export function copySamples(values: readonly ExposedValue[]): ExposedValue[] {
  return values.map(({ value, metricName, labels }) => ({ value, metricName, labels: { ...labels } }));
}

function readPromClientMetric(metric: object): Promise<ExposedFamily> {
  if (!hasGet(metric)) throw new Error('it has no get()');
  return metric.get().then(exposedFamilyOf);
}

/** prom-client types its registry's metrics without get(); every metric it can read has one. */
function hasGet(metric: object): metric is Pick<Histogram, 'get'> {
  return 'get' in metric && typeof metric.get === 'function';
}

/** Whether `current` holds the samples `rendered` was made from (a copy made with copySamples). */
export function sameSamples(rendered: readonly ExposedValue[], current: readonly ExposedValue[]): boolean {
  if (rendered.length !== current.length) return false;
  for (let i = 0; i < rendered.length; i++) {
    const x = rendered[i]!;
    const y = current[i]!;
    if (!Object.is(x.value, y.value) || x.metricName !== y.metricName || !sameLabels(x.labels, y.labels)) return false;
  }
  return true;
}

/** Same names with the same values; the order, which only changes how they are written, may differ. */
function sameLabels(a: ExposedLabels, b: ExposedLabels): boolean {
  let names = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    names++;
  }
  for (const _ in b) names--;
  return names === 0;
}

/** `{a="1",b="x"}` with values escaped, or '' for no labels. */
export function formatLabels(labels: ExposedLabels): string {
  let text = '';
  for (const key in labels) {
    text += `${text === '' ? '' : ','}${key}="${escapeLabelValue(String(labels[key]))}"`;
  }
  return text === '' ? '' : `{${text}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return /[\\\n"]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
}

function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}
