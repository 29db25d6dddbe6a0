/**
 * scrape: GET /metrics of the tracked application with every source live (default SOURCES, a
 * database holding IoTFlow's tables) and a registry carrying a busy application's request series,
 * under 10 concurrent scrapers while background traffic keeps hitting the application routes.
 * Rounds alternate with node_exporter's /metrics under the same scrapers and the same background
 * load, so the ratio of p99s compares like with like on a noisy machine.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trafficLines } from '../servers/app-routes';
import { createIotflowDatabase } from '../lib/iotflow-database';
import http from 'node:http';
import { type ChildServer, cpuSeconds, freePort, httpGet, pause, runNodeScript, serverEnv, startExecutable, startNodeServer } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { describeSources, waitForSourcesUp } from '../lib/service-state';
import { median, round } from '../lib/stats';
import { runWrk, startWrk, type WrkResult } from '../lib/wrk';

const NODE_EXPORTER = process.env.NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter';

const SCRAPERS = 10;
/** Background traffic: 4 connections, each pausing 2 ms before a request: at most 2 000 requests/s. */
const TRAFFIC_CONNECTIONS = 4;
const TRAFFIC_DELAY_MS = 2;

/** What Prometheus with native histograms on asks for. */
const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3';

/**
 * The ways a scraper may ask for /metrics, each measured under the same scrapers and background
 * load, alternating within every round: the plain text Prometheus asks for without
 * `Accept-Encoding`, the gzipped text it asks for by default, and protobuf (native histograms),
 * plain and gzipped.
 */
const VARIANTS = [
  { name: 'text', headers: {} },
  { name: 'text+gzip', headers: { 'Accept-Encoding': 'gzip' } },
  { name: 'protobuf', headers: { Accept: PROTOBUF_ACCEPT } },
  { name: 'protobuf+gzip', headers: { Accept: PROTOBUF_ACCEPT, 'Accept-Encoding': 'gzip' } },
] as const;
type VariantName = (typeof VARIANTS)[number]['name'];

interface ScrapeRound {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly scrapesPerSecond: number;
  readonly errors: number;
  /** The server's CPU per scrape, less what the background traffic used (measured beside each round). */
  readonly cpuMsPerScrape?: number;
}

const round3 = (value: number) => round(value, 3);

const toRound = (result: WrkResult): ScrapeRound => ({
  p50Ms: round(result.p50Ms, 3),
  p99Ms: round(result.p99Ms, 3),
  maxMs: round(result.maxMs, 3),
  scrapesPerSecond: round(result.requestsPerSecond, 1),
  errors: result.errors + result.non2xx,
});

function summarize(rounds: readonly ScrapeRound[]) {
  return {
    p50Ms: round(median(rounds.map((r) => r.p50Ms)), 3),
    p99Ms: round(median(rounds.map((r) => r.p99Ms)), 3),
    maxMs: round(Math.max(...rounds.map((r) => r.maxMs)), 3),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    rounds,
  };
}

/** A GET with headers; resolves with the body's bytes as sent (not decompressed). */
function bodyBytes(port: number, urlPath: string, headers: Readonly<Record<string, string>>): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve(bytes));
    }).once('error', reject);
  });
}

/** What one scrape carries. */
function describeExposition(body: string) {
  const lines = body.split('\n');
  const samples = lines.filter((line) => line !== '' && !line.startsWith('#'));
  return {
    bytes: Buffer.byteLength(body),
    families: lines.filter((line) => line.startsWith('# TYPE ')).length,
    samples: samples.length,
    requestSeries: samples.filter((line) => line.startsWith('http_requests_total{')).length,
  };
}

export async function scrapeSuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const rounds = quick ? 2 : 5;
  const seconds = quick ? 4 : 10;
  const work = mkdtempSync(path.join(os.tmpdir(), 'iotflow-bench-scrape-'));
  const database = await createIotflowDatabase();
  const servers: ChildServer[] = [];
  try {
    const app = await startNodeServer('tracked app', 'bench/servers/tracked-app.js', serverEnv({ DATABASE_URL: database.url, METRICS_RATE_LIMIT: '0' }));
    servers.push(app);
    const sources = await waitForSourcesUp(app.port);
    log(`sources: ${describeSources(sources)}`);

    const requestsFile = path.join(work, 'traffic.txt');
    const lines = trafficLines();
    writeFileSync(requestsFile, lines.join('\n') + '\n');
    const appUrl = `http://127.0.0.1:${app.port}/`;
    // Every route × status combination, many times over, before the first scrape.
    await runWrk({ url: appUrl, connections: 8, seconds: 2, requestsFile });
    const exposition = describeExposition((await httpGet(app.port, '/metrics')).body);
    log(`/metrics: ${exposition.bytes} bytes, ${exposition.samples} samples, ${exposition.requestSeries} request series`);

    let nodeExporterPort: number | undefined;
    if (existsSync(NODE_EXPORTER)) {
      nodeExporterPort = await freePort();
      servers.push(await startExecutable('node_exporter', NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nodeExporterPort}`], nodeExporterPort));
    } else {
      log(`${NODE_EXPORTER} not installed: no node_exporter comparison`);
    }

    const traffic = startWrk({ url: appUrl, connections: TRAFFIC_CONNECTIONS, seconds: 3600, requestsFile, delayMs: TRAFFIC_DELAY_MS });
    traffic.result.catch(() => undefined); // awaited below; if a round fails first, that error is the one reported
    const byVariant = new Map<VariantName, ScrapeRound[]>(VARIANTS.map(({ name }) => [name, []]));
    const ours = byVariant.get('text')!;
    const single: ScrapeRound[] = [];
    const nodeExporter: ScrapeRound[] = [];
    const backgroundCpu: number[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        // The background traffic's own CPU rate, to take out of each variant's CPU.
        const quietSeconds = Math.ceil(seconds / 2);
        const quietStart = cpuSeconds(app.pid);
        await pause(quietSeconds * 1000);
        const backgroundRate = (cpuSeconds(app.pid) - quietStart) / quietSeconds;
        backgroundCpu.push(backgroundRate);
        for (const { name, headers } of VARIANTS) {
          const cpuStart = cpuSeconds(app.pid);
          const result = await runWrk({ url: `http://127.0.0.1:${app.port}/metrics`, connections: SCRAPERS, seconds, headers });
          const cpu = cpuSeconds(app.pid) - cpuStart - backgroundRate * result.seconds;
          byVariant.get(name)!.push({ ...toRound(result), cpuMsPerScrape: round3((cpu * 1000) / Math.max(1, result.requests)) });
        }
        single.push(toRound(await runWrk({ url: `http://127.0.0.1:${app.port}/metrics`, connections: 1, seconds: Math.ceil(seconds / 2) })));
        if (nodeExporterPort) nodeExporter.push(toRound(await runWrk({ url: `http://127.0.0.1:${nodeExporterPort}/metrics`, connections: SCRAPERS, seconds })));
        const variants = VARIANTS.map(({ name }) => `${name} ${byVariant.get(name)!.at(-1)!.p99Ms} ms`).join(', ');
        log(`round ${round + 1}/${rounds}: p99 ${variants} (1 scraper: ${single.at(-1)!.p99Ms} ms)${nodeExporterPort ? `, node_exporter ${nodeExporter.at(-1)!.p99Ms} ms` : ''}`);
      }
    } finally {
      traffic.stop();
    }
    const background = await traffic.result;

    const scrape = summarize(ours);
    const nodeExporterSummary = nodeExporter.length > 0 ? summarize(nodeExporter) : undefined;
    const ratio = nodeExporterSummary ? round(scrape.p99Ms / nodeExporterSummary.p99Ms, 3) : undefined;
    const singleSummary = summarize(single);
    // The steadier figure: CPU per scrape in one process, variants alternating, no sockets.
    const inProcess = JSON.parse(await runNodeScript('bench/scrape-cpu.js', [String(quick ? 10 : 40), '20'], serverEnv({}), 300_000)) as Record<string, { cpuMsPerScrape: number; bytes: number }>;
    const variants = await Promise.all(
      VARIANTS.map(async ({ name, headers }) => {
        const rounds = byVariant.get(name)!;
        return { name, bytes: await bodyBytes(app.port, '/metrics', headers), ...summarize(rounds), cpuMsPerScrape: round3(median(rounds.map((r) => r.cpuMsPerScrape!))) };
      }),
    );
    return {
      rows: [
        ['sources', describeSources(sources)],
        ['/metrics', `${exposition.bytes} B, ${exposition.samples} samples, ${exposition.requestSeries} route/method/status series`],
        [`${SCRAPERS} scrapers p50 / p99 / max`, `${scrape.p50Ms} / ${scrape.p99Ms} / ${scrape.maxMs} ms (median of ${rounds} rounds; max of all)`],
        ...variants.map(({ name, bytes, p99Ms, cpuMsPerScrape }): [string, string] => [`${name}: bytes / ${SCRAPERS} scrapers p99 / CPU per scrape`, `${bytes} B / ${p99Ms} ms / ${cpuMsPerScrape} ms`]),
        ...Object.entries(inProcess).map(([name, { cpuMsPerScrape, bytes }]): [string, string] => [`in-process CPU per scrape: ${name}`, `${cpuMsPerScrape} ms (${bytes} B)`]),
        ['1 scraper p50 / p99', `${singleSummary.p50Ms} / ${singleSummary.p99Ms} ms`],
        ['node_exporter p99 (same load)', nodeExporterSummary ? `${nodeExporterSummary.p99Ms} ms → ours is ${ratio}× its p99` : 'not installed'],
        ['background traffic', `${Math.round(background.requestsPerSecond)} requests/s over ${lines.length} route/status combinations`],
      ],
      checks: [check('scrapeP99Ms', scrape.p99Ms), check('scrapeP99TargetMs', scrape.p99Ms)],
      data: {
        scrapers: SCRAPERS,
        secondsPerRound: seconds,
        sources,
        exposition,
        ...scrape,
        singleScraper: singleSummary,
        variants,
        inProcessCpu: inProcess,
        backgroundCpuSecondsPerSecond: round3(median(backgroundCpu)),
        nodeExporter: nodeExporterSummary ?? null,
        p99RatioToNodeExporter: ratio ?? null,
        backgroundTraffic: { requestsPerSecond: round(background.requestsPerSecond, 1), combinations: lines.length },
      },
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await database.drop();
    rmSync(work, { recursive: true, force: true });
  }
}
