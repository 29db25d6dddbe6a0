import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { get } from './http';
import { decodeMetricFamilies } from './protobuf-decoder';
import { sparePort } from './ports';
import { killProcess } from './processes';

/** Debian's postgres_exporter (package prometheus-postgres-exporter, 0.11.1 on Debian 12). */
export const PEER_BINARY = '/usr/bin/prometheus-postgres-exporter';
const EXAMPLE = '/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml';

/** The package's example queries file, unpacked into `target` if Debian shipped it gzipped. */
export function debianExampleQueries(target: string): string {
  const text = existsSync(EXAMPLE) ? readFileSync(EXAMPLE) : gunzipSync(readFileSync(`${EXAMPLE}.gz`));
  writeFileSync(target, text);
  return target;
}

export interface PeerExporter {
  readonly port: number;
  stop(): Promise<void>;
}

/** Runs postgres_exporter on a spare port of 127.0.0.1 with only the queries file's metrics and its own few. */
export async function startPeerExporter(dataSourceName: string, queriesFile: string): Promise<PeerExporter> {
  const port = await sparePort();
  const child: ChildProcess = spawn(
    PEER_BINARY,
    [`--extend.query-path=${queriesFile}`, '--disable-default-metrics', '--disable-settings-metrics', `--web.listen-address=127.0.0.1:${port}`],
    { env: { DATA_SOURCE_NAME: dataSourceName }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Listening on/.test(output)) resolve();
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('exit', (code) => reject(new Error(`postgres_exporter exited with ${code}:\n${output}`)));
  });
  return { port, stop: () => killProcess(child) };
}

const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** One series: its name and labels, as a stable key. */
export type SeriesKey = string;

/**
 * The series of an exposition whose names start with one of `prefixes`, keyed by name and sorted
 * labels without postgres_exporter's `server` label, `le` read as a number (the two write 1e+06
 * and 1000000). Values as numbers, NaN included.
 */
export function seriesOf(exposition: string, prefixes: readonly string[]): Map<SeriesKey, number> {
  const series = new Map<SeriesKey, number>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, labelText = '', value] = match;
    if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
    const labels = [...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .filter(([, label]) => label !== 'server')
      .map(([, label, text]) => `${label}=${JSON.stringify(label === 'le' ? String(Number(text.replace('+Inf', 'Infinity'))) : text)}`)
      .sort();
    series.set(`${name}{${labels.join(',')}}`, Number(value));
  }
  return series;
}

/** The same series as seriesOf makes from text, from a protobuf exposition: a histogram's buckets, sum and count as _bucket (with le), _sum and _count. */
export function protobufSeriesOf(body: Buffer, prefixes: readonly string[]): Map<SeriesKey, number> {
  const series = new Map<SeriesKey, number>();
  const key = (name: string, labels: Record<string, string>) =>
    `${name}{${Object.entries(labels)
      .filter(([label]) => label !== 'server')
      .map(([label, text]) => `${label}=${JSON.stringify(text)}`)
      .sort()
      .join(',')}}`;
  for (const family of decodeMetricFamilies(body)) {
    if (!prefixes.some((prefix) => family.name.startsWith(prefix))) continue;
    for (const { labels, counter, gauge, untyped, histogram } of family.metrics) {
      if (histogram) {
        for (const { upperBound, cumulativeCount } of histogram.buckets) series.set(key(`${family.name}_bucket`, { ...labels, le: String(upperBound) }), cumulativeCount);
        series.set(key(`${family.name}_sum`, labels), histogram.sum);
        series.set(key(`${family.name}_count`, labels), histogram.count);
      } else series.set(key(family.name, labels), counter ?? gauge ?? untyped ?? NaN);
    }
  }
  return series;
}

/** /metrics in Prometheus's protobuf exposition (delimited MetricFamily messages). */
export async function scrapeProtobuf(port: number): Promise<Buffer> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: PROTOBUF_ACCEPT } });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('application/vnd.google.protobuf')) {
    throw new Error(`GET /metrics (protobuf) on ${port}: ${response.status} ${response.headers.get('content-type')}`);
  }
  return body;
}

export async function scrapeText(port: number): Promise<string> {
  const { status, body } = await get(port, '/metrics');
  if (status !== 200) throw new Error(`GET /metrics on ${port}: ${status}\n${body}`);
  return body;
}
