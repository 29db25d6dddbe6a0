/**
 * overhead: what request tracking costs the application. The same route on plain uWS (no
 * tracking), on this project's tracked server (on uWS and on its node:http engine), and on the
 * peers a user would otherwise pick, each loaded by wrk in turn, in several alternating rounds of
 * one run (the order rotates each round), so drift on the shared machine hits every server alike.
 * Ratios to plain uWS are per round, then the median. Each server's CPU time per request (/proc)
 * is reported too: it moves less than requests/s when another process takes the core away.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MEASURED_PATH } from '../servers/app-routes';
import { type ChildServer, cpuSeconds, httpGet, ROOT, serverEnv, startNodeServer } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { median, round } from '../lib/stats';
import { runWrk } from '../lib/wrk';

interface Contender {
  readonly key: string;
  readonly label: string;
  readonly script: string;
  readonly env: Record<string, string>;
  /** Packages whose versions the report names. */
  readonly packages: readonly string[];
}

const CONTENDERS: readonly Contender[] = [
  { key: 'plainUws', label: 'plain uWS (no tracking)', script: 'bench/servers/plain-uws.js', env: {}, packages: ['uWebSockets.js'] },
  // Collection off the table (app only, hourly): this suite measures the per-request cost.
  { key: 'tracked', label: 'tracked (this project)', script: 'bench/servers/tracked-app.js', env: { SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '3600', METRICS_RATE_LIMIT: '0' }, packages: ['uWebSockets.js', 'prom-client'] },
  // The same tracked server on the node:http + ws engine, which serves where no uWS build loads.
  { key: 'trackedNode', label: 'tracked on node:http (HTTP_ENGINE=node)', script: 'bench/servers/tracked-app.js', env: { SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '3600', METRICS_RATE_LIMIT: '0', HTTP_ENGINE: 'node' }, packages: ['ws', 'prom-client'] },
  { key: 'fastifyMetrics', label: 'fastify + fastify-metrics', script: 'bench/servers/fastify-metrics.js', env: {}, packages: ['fastify', 'fastify-metrics'] },
  { key: 'expressPromBundle', label: 'express + express-prom-bundle', script: 'bench/servers/express-prom-bundle.js', env: {}, packages: ['express', 'express-prom-bundle'] },
];

/** One wrk thread and 32 connections: enough to keep one Node thread saturated, leaving the other core to wrk. */
const CONNECTIONS = 32;

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** The requests the tracked server counted on the measured route, from its own /metrics. */
async function countedRequests(port: number): Promise<number> {
  const { body } = await httpGet(port, '/metrics');
  const line = body.split('\n').find((text) => text.startsWith('http_requests_total{') && text.includes('endpoint="/api/v1/devices/:id"') && text.includes('status="200"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export async function overheadSuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const rounds = quick ? 3 : 7;
  const seconds = quick ? 3 : 8;
  const servers: ChildServer[] = [];
  try {
    for (const contender of CONTENDERS) servers.push(await startNodeServer(contender.label, contender.script, serverEnv(contender.env)));
    const url = (index: number) => `http://127.0.0.1:${servers[index]!.port}${MEASURED_PATH}`;
    // JIT warm-up, not measured.
    for (let index = 0; index < servers.length; index++) await runWrk({ url: url(index), connections: CONNECTIONS, seconds: 2 });
    const countedBefore = await countedRequests(servers[1]!.port);

    const perRound: number[][] = CONTENDERS.map(() => []);
    const p99Ms: number[][] = CONTENDERS.map(() => []);
    const cpuMicrosPerRequest: number[][] = CONTENDERS.map(() => []);
    let trackedSent = 0;
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < CONTENDERS.length; turn++) {
        const index = (turn + round) % CONTENDERS.length;
        const cpuBefore = cpuSeconds(servers[index]!.pid);
        const result = await runWrk({ url: url(index), connections: CONNECTIONS, seconds });
        cpuMicrosPerRequest[index]!.push(((cpuSeconds(servers[index]!.pid) - cpuBefore) / result.requests) * 1e6);
        if (result.errors + result.non2xx > 0) throw new Error(`${CONTENDERS[index]!.label}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
        perRound[index]!.push(result.requestsPerSecond);
        p99Ms[index]!.push(result.p99Ms);
        if (CONTENDERS[index]!.key === 'tracked') trackedSent += result.requests;
      }
      log(`round ${round + 1}/${rounds}: ${CONTENDERS.map((contender, index) => `${contender.key} ${Math.round(perRound[index]!.at(-1)!)}`).join(', ')} requests/s`);
    }
    const trackedCounted = (await countedRequests(servers[1]!.port)) - countedBefore;

    const plain = perRound[0]!;
    const contenders = CONTENDERS.map((contender, index) => {
      const ratios = perRound[index]!.map((rps, round) => rps / plain[round]!);
      return {
        key: contender.key,
        label: contender.label,
        versions: Object.fromEntries(contender.packages.map((name) => [name, packageVersion(name)])),
        medianRequestsPerSecond: Math.round(median(perRound[index]!)),
        ratioToPlainUws: round(median(ratios), 3),
        cpuMicrosecondsPerRequest: round(median(cpuMicrosPerRequest[index]!), 2),
        medianP99Ms: round(median(p99Ms[index]!), 2),
        rounds: perRound[index]!.map((rps) => Math.round(rps)),
      };
    });
    const tracked = contenders[1]!;
    return {
      rows: [
        ...contenders.map(({ label, versions, medianRequestsPerSecond, ratioToPlainUws, cpuMicrosecondsPerRequest, medianP99Ms }): [string, string] => [
          label,
          `${medianRequestsPerSecond} req/s, ${ratioToPlainUws}× plain uWS; ${cpuMicrosecondsPerRequest} µs CPU/request; p99 ${medianP99Ms} ms (${Object.entries(versions).map(([name, version]) => `${name} ${version}`).join(', ')})`,
        ]),
        ['tracked server counted', `${trackedCounted} of the ${trackedSent} requests wrk completed`],
      ],
      checks: [check('trackedThroughputRatio', tracked.ratioToPlainUws), check('trackedThroughputTargetRatio', tracked.ratioToPlainUws)],
      data: { route: MEASURED_PATH, connections: CONNECTIONS, secondsPerRound: seconds, roundsRun: rounds, contenders, trackedCounted, trackedSent },
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
