/**
 * footprint: the whole process, measured from outside at Prometheus's cadence, against the three
 * Go exporters it replaces. This service (every source, the default 15 s interval, started the
 * way `npm start` starts it: package.json's start script gives its environment and node flags),
 * Debian's node_exporter, postgres_exporter and redis_exporter, each scraped once every 15 s for
 * the same wall time. CPU is /proc/<pid>/stat (user + system, reaped children included: a helper a
 * process spawns costs the machine too), nothing subtracted; RSS is VmRSS, sampled every second.
 * Beside it runs the lean profile, the same with NODE_OPTIONS=--jitless (README, Footprint), whose
 * figures are reported, not held to the targets; and, given a Debian 13 root (BENCH_DEBIAN_ROOT, made as
 * .ci/debian-root.sh does, Node 24 at usr/local/bin/node), the service as the image runs it: Node 24
 * on glibc 2.41, so on uWebSockets.js 20.57, started the same way, in the same run.
 * "At rest" is the service's CPU over the seconds at least REST_MARGIN_S away from any of its
 * collections (their phase is read from collector_last_success_timestamp_seconds) and any scrape,
 * from the scheduler's nanosecond accounting (a 10 ms tick is 1 % of such a second).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { type DebianRoot, openDebianRoot } from '../lib/debian-root';
import { createIotflowDatabase } from '../lib/iotflow-database';
import { type ChildServer, cpuSeconds, freePort, httpGet, onCpuSeconds, pause, ROOT, rssBytes, serverEnv, startExecutable, startNodeServer } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { startCommand } from '../lib/start-command';
import { describeSources, waitForSourcesUp } from '../lib/service-state';
import { MB, round } from '../lib/stats';

const SCRAPE_INTERVAL_S = 15;
/** A second this close to a collection or a scrape is not "at rest". */
const REST_MARGIN_S = 1.5;

const EXPORTERS = [
  { name: 'node_exporter', file: process.env.NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter' },
  { name: 'postgres_exporter', file: process.env.POSTGRES_EXPORTER ?? '/usr/bin/prometheus-postgres-exporter' },
  { name: 'redis_exporter', file: process.env.REDIS_EXPORTER ?? '/usr/bin/prometheus-redis-exporter' },
] as const;

type ExporterName = (typeof EXPORTERS)[number]['name'];

interface Measured {
  readonly name: string;
  readonly cpuSeconds: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

/** Arguments and environment that point an exporter at the local services, on `port`. */
function exporterLaunch(name: ExporterName, port: number, databaseUrl: string): { args: string[]; env: Record<string, string> } {
  const listen = `--web.listen-address=127.0.0.1:${port}`;
  if (name === 'postgres_exporter') {
    const dsn = new URL(databaseUrl);
    dsn.searchParams.set('sslmode', 'disable');
    return { args: [listen], env: { DATA_SOURCE_NAME: dsn.toString() } };
  }
  if (name === 'redis_exporter') {
    const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    // redis_exporter's flags take one dash.
    return { args: [`-web.listen-address=127.0.0.1:${port}`, `-redis.addr=${redis}`], env: {} };
  }
  return { args: [listen], env: {} };
}

/** The Unix time of the service's latest collection, read from a scrape. */
function lastCollectionSeconds(body: string): number | undefined {
  const times = [...body.matchAll(/^collector_last_success_timestamp_seconds\{[^}]*\} (\S+)/gm)].map((match) => Number(match[1]));
  return times.length > 0 ? Math.max(...times) : undefined;
}

/**
 * Telemetry the service counted so far: the local broker is shared, and messages another process
 * publishes cost this service CPU that the Go exporters do not see, so the run says how many came.
 */
function telemetryCount(body: string): number {
  return Number(/^iotflow_telemetry_messages_total (\S+)/m.exec(body)?.[1] ?? NaN);
}

const load = () => os.loadavg().map((value) => round(value, 2));

/** The lean profile: V8's interpreter only (README, Footprint). */
const LEAN_NODE_OPTIONS = '--jitless';

export async function footprintSuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const seconds = quick ? 60 : 180;
  const warmUpSeconds = quick ? 10 : 20;
  const database = await createIotflowDatabase();
  const servers: ChildServer[] = [];
  const debianRootDir = process.env.BENCH_DEBIAN_ROOT;
  let debianRoot: DebianRoot | undefined;
  try {
    const start = startCommand(ROOT);
    const serviceEnv = serverEnv({ ...start.env, DATABASE_URL: database.url, METRICS_RATE_LIMIT: '0' });
    const service = await startNodeServer('service', start.script, serviceEnv, [], start.nodeArgs);
    servers.push(service);
    const lean = await startNodeServer('service, lean', start.script, { ...serviceEnv, NODE_OPTIONS: LEAN_NODE_OPTIONS }, [], start.nodeArgs);
    servers.push(lean);
    const sources = await waitForSourcesUp(service.port);
    log(`sources: ${describeSources(sources)}; started as ${JSON.stringify(start)}`);
    let imageRuntime: ChildServer | undefined;
    if (debianRootDir) {
      debianRoot = openDebianRoot(debianRootDir);
      imageRuntime = await debianRoot.start(`service, Node ${debianRoot.nodeVersion} in Debian 13`, start.script, serviceEnv, start.nodeArgs);
      servers.push(imageRuntime);
      await waitForSourcesUp(imageRuntime.port);
    } else {
      log('BENCH_DEBIAN_ROOT not set: the image\'s runtime (Node 24, Debian 13) not measured');
    }

    const exporters: ChildServer[] = [];
    const missing: string[] = [];
    for (const exporter of EXPORTERS) {
      if (!existsSync(exporter.file)) {
        missing.push(exporter.name);
        log(`${exporter.file} not installed: no ${exporter.name}, no ratio`);
        continue;
      }
      const port = await freePort();
      const { args, env } = exporterLaunch(exporter.name, port, database.url);
      const server = await startExecutable(exporter.name, exporter.file, args, port, env);
      servers.push(server);
      exporters.push(server);
    }
    const everyone = [service, ...exporters, lean, ...(imageRuntime ? [imageRuntime] : [])];
    const scrapeAll = async () => {
      const answers = await Promise.all(everyone.map((server) => httpGet(server.port, '/metrics')));
      answers.forEach(({ status }, i) => {
        if (status !== 200) throw new Error(`${everyone[i]!.name} answered /metrics with ${status}`);
      });
      return answers[0]!.body;
    };
    // A first scrape warms every exporter's collectors up (postgres_exporter connects on it) and tells the collection phase.
    let lastCollection = lastCollectionSeconds(await scrapeAll());
    await pause(warmUpSeconds * 1000);
    let telemetryBefore = NaN;
    let telemetryAfter = NaN;

    const loadBefore = load();
    const cpuBefore = everyone.map((server) => cpuSeconds(server.pid));
    const rss = everyone.map(() => [] as number[]);
    const scrapeTimes: number[] = [];
    const restSamples: Array<{ at: number; cpu: number }> = [];
    const startedMs = Date.now();
    let nextScrapeMs = startedMs;
    while (Date.now() - startedMs < seconds * 1000) {
      if (Date.now() >= nextScrapeMs) {
        scrapeTimes.push(Date.now() / 1000);
        const body = await scrapeAll();
        lastCollection = lastCollectionSeconds(body) ?? lastCollection;
        if (Number.isNaN(telemetryBefore)) telemetryBefore = telemetryCount(body);
        telemetryAfter = telemetryCount(body);
        nextScrapeMs += SCRAPE_INTERVAL_S * 1000;
      }
      everyone.forEach((server, i) => rss[i]!.push(rssBytes(server.pid)));
      restSamples.push({ at: Date.now() / 1000, cpu: onCpuSeconds(service.pid) });
      await pause(1000 - ((Date.now() - startedMs) % 1000));
    }
    const elapsedSeconds = (Date.now() - startedMs) / 1000;
    const measured: Measured[] = everyone.map((server, i) => ({
      name: server.name,
      cpuSeconds: round(cpuSeconds(server.pid) - cpuBefore[i]!, 2),
      rssMb: round(rss[i]!.at(-1)! / MB, 1),
      peakRssMb: round(Math.max(...rss[i]!) / MB, 1),
    }));
    const loadAfter = load();

    // At rest: the one-second windows far from every collection (the service's interval from its last one) and every scrape.
    const interval = SCRAPE_INTERVAL_S;
    const nearCollection = (at: number) => lastCollection !== undefined && Math.min(((at - lastCollection) % interval + interval) % interval, ((lastCollection - at) % interval + interval) % interval) < REST_MARGIN_S;
    const nearScrape = (at: number) => scrapeTimes.some((time) => Math.abs(at - time) < REST_MARGIN_S);
    let restCpu = 0;
    let restSeconds = 0;
    for (let i = 1; i < restSamples.length; i++) {
      const [from, to] = [restSamples[i - 1]!, restSamples[i]!];
      if ([from.at, to.at].some((at) => nearCollection(at) || nearScrape(at))) continue;
      restCpu += to.cpu - from.cpu;
      restSeconds += to.at - from.at;
    }
    const restPercent = restSeconds > 0 ? (restCpu / restSeconds) * 100 : NaN;

    const ours = measured[0]!;
    const theirs = measured.slice(1, 1 + exporters.length);
    const leanMeasured = measured[1 + exporters.length]!;
    const imageMeasured = imageRuntime ? measured.at(-1)! : undefined;
    const complete = missing.length === 0;
    const exportersCpu = round(theirs.reduce((sum, item) => sum + item.cpuSeconds, 0), 2);
    const exportersRss = round(theirs.reduce((sum, item) => sum + item.rssMb, 0), 1);
    const cpuRatio = complete && exportersCpu > 0 ? round(ours.cpuSeconds / exportersCpu, 2) : NaN;
    const rssRatio = complete ? round(ours.rssMb / exportersRss, 2) : NaN;
    const percent = (cpu: number) => round((cpu / elapsedSeconds) * 100, 3);
    const ratios = complete && exportersCpu > 0;
    const againstExporters = (item: Measured) => `${item.cpuSeconds} s / ${item.rssMb} MB (${item.peakRssMb} MB)${ratios ? ` → ${round(item.cpuSeconds / exportersCpu, 2)}× their CPU, ${round(item.rssMb / exportersRss, 2)}× their RSS` : ''}`;
    return {
      rows: [
        ['sources', describeSources(sources)],
        ['run', `${Math.round(elapsedSeconds)} s, each scraped every ${SCRAPE_INTERVAL_S} s (${scrapeTimes.length} scrapes); load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}`],
        ['this service: CPU / RSS (peak)', `${ours.cpuSeconds} s = ${percent(ours.cpuSeconds)} % of a core / ${ours.rssMb} MB (${ours.peakRssMb} MB)`],
        ...theirs.map((item): [string, string] => [`${item.name}: CPU / RSS`, `${item.cpuSeconds} s / ${item.rssMb} MB`]),
        ...missing.map((name): [string, string] => [name, 'not installed: ratio skipped']),
        ['the three Go exporters together', complete ? `${exportersCpu} s / ${exportersRss} MB → ours is ${cpuRatio}× their CPU, ${rssRatio}× their RSS` : `incomplete (${missing.join(', ')} missing)`],
        [`lean profile (NODE_OPTIONS=${LEAN_NODE_OPTIONS}): CPU / RSS (peak)`, againstExporters(leanMeasured)],
        [`the image's runtime (${imageMeasured?.name ?? 'BENCH_DEBIAN_ROOT not set'}): CPU / RSS (peak)`, imageMeasured ? againstExporters(imageMeasured) : 'not measured'],
        ['telemetry counted during the run', `${telemetryAfter - telemetryBefore} messages (others' traffic on the shared broker costs this service CPU)`],
        ['this service at rest', `${round(restPercent, 3)} % of a core over ${Math.round(restSeconds)} s away from collections and scrapes`],
      ],
      checks: [
        ...(complete ? [check('footprintCpuRatio', cpuRatio)] : []),
        check('footprintRestCpuPercent', round(restPercent, 3)),
        check('footprintRssMb', ours.peakRssMb),
        ...(imageMeasured && ratios ? [check('footprintImageRuntimeCpuRatio', round(imageMeasured.cpuSeconds / exportersCpu, 2))] : []),
        ...(imageMeasured ? [check('footprintImageRuntimeRssMb', imageMeasured.peakRssMb)] : []),
      ],
      data: {
        sources,
        startCommand: start,
        seconds: round(elapsedSeconds, 1),
        scrapes: scrapeTimes.length,
        loadAverage: { before: loadBefore, after: loadAfter },
        processes: measured,
        missing,
        exportersTogether: complete ? { cpuSeconds: exportersCpu, rssMb: exportersRss } : null,
        cpuRatio: complete ? cpuRatio : null,
        rssRatio: complete ? rssRatio : null,
        restCpuPercent: round(restPercent, 4),
        restSeconds: round(restSeconds, 1),
        telemetryMessages: telemetryAfter - telemetryBefore,
        imageRuntime: debianRoot ? { root: debianRoot.dir, node: debianRoot.nodeVersion } : null,
      },
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    debianRoot?.close();
    await database.drop();
  }
}
