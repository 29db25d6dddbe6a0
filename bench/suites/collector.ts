/**
 * collector: what collecting costs. Three copies of the service run side by side for the same
 * wall time: every source (default SOURCES, a database holding IoTFlow's tables) collecting every
 * 0.2 s; every source at the default 15 s; and an idle baseline (the `app` source only, collected
 * once an hour). The CPU time the fast one used beyond the baseline (/proc/<pid>/stat), divided by
 * the collections it made, is the cost of one cycle; at the default 15 s interval that is
 * cost / 15 s of one core. That marginal figure hides the idle cost (timers, the runtime metrics'
 * event-loop sampling), so the 15 s copy's whole-process CPU per minute, nothing subtracted, is
 * reported beside it (the footprint suite compares that whole process with the Go exporters). RSS is sampled every second: the 15 s copy minus the baseline is what
 * collection holds (the fast copy's heap grows with its allocation rate, so it would overstate
 * it). A leak shows in the fast copy's live heap after a full garbage collection, from the end of
 * the warm-up to the end of the run, over hundreds of cycles (bench/lib/heap-probe.ts); its RSS
 * growth is reported beside it, but RSS also grows while V8 sizes its heap to the allocation rate.
 */
import WebSocket from 'ws';
import { createIotflowDatabase } from '../lib/iotflow-database';
import { type ChildServer, cpuSeconds, HEAP_PROBE_ARGS, liveHeapBytes, pause, rssBytes, serverEnv, startNodeServer } from '../lib/processes';
import { type BenchOptions, check, type SuiteOutcome } from '../lib/report';
import { describeSources, waitForSourcesUp } from '../lib/service-state';
import { MB, median, round } from '../lib/stats';

const INTERVAL_SECONDS = 0.2;
const DEFAULT_INTERVAL_SECONDS = 15;

/**
 * Counts collections per source from the service's /stream (one message per source per
 * collection); undefined when the service has no /stream, and the cycle count is then nominal.
 */
async function collectionCounter(port: number): Promise<{ counts: Map<string, number>; close(): void } | undefined> {
  const counts = new Map<string, number>();
  const socket = new WebSocket(`ws://127.0.0.1:${port}/stream`);
  socket.on('message', (data: Buffer) => {
    const source = /^\{"source":"([^"]+)"/.exec(data.toString('latin1', 0, 64))?.[1];
    if (source) counts.set(source, (counts.get(source) ?? 0) + 1);
  });
  const opened = await new Promise<boolean>((resolve) => {
    socket.once('open', () => resolve(true));
    // Also after opening: a dropped counter leaves the cycle count short, which errs on the safe side.
    socket.on('error', () => resolve(false));
    socket.once('unexpected-response', () => resolve(false));
  });
  if (!opened) {
    socket.terminate();
    return undefined;
  }
  return { counts, close: () => socket.terminate() };
}

/** Median of the first and of the last fifth of the samples: growth that a GC cycle's timing does not fake. */
function growth(samples: readonly number[]): number {
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  return median(samples.slice(-fifth)) - median(samples.slice(0, fifth));
}

export async function collectorSuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const seconds = quick ? 30 : 180;
  const warmUpSeconds = quick ? 5 : 20;
  const database = await createIotflowDatabase();
  const servers: ChildServer[] = [];
  let counter: Awaited<ReturnType<typeof collectionCounter>> = undefined;
  try {
    const interval = String(INTERVAL_SECONDS);
    const loaded = await startNodeServer(
      'service, every source',
      'container/main.js',
      serverEnv({ DATABASE_URL: database.url, COLLECTION_INTERVAL_SECONDS: interval, COLLECTION_TIMEOUT_SECONDS: interval, METRICS_RATE_LIMIT: '0' }),
      [],
      HEAP_PROBE_ARGS,
    );
    servers.push(loaded);
    const atDefault = await startNodeServer('service, every source, 15 s', 'container/main.js', serverEnv({ DATABASE_URL: database.url, COLLECTION_INTERVAL_SECONDS: String(DEFAULT_INTERVAL_SECONDS), METRICS_RATE_LIMIT: '0' }));
    servers.push(atDefault);
    const idle = await startNodeServer('service, idle', 'container/main.js', serverEnv({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '3600', METRICS_RATE_LIMIT: '0' }));
    servers.push(idle);
    const sources = await waitForSourcesUp(loaded.port);
    log(`sources: ${describeSources(sources)}`);
    counter = await collectionCounter(loaded.port);
    if (!counter) log('no /stream on the service: cycles counted from the interval, not observed');
    await pause(warmUpSeconds * 1000);

    // Outside the CPU measurement: the forced collections are the probe's cost, not collection's.
    const liveHeapBefore = await liveHeapBytes(loaded);
    const startedMs = Date.now();
    const cpuBefore = { loaded: cpuSeconds(loaded.pid), atDefault: cpuSeconds(atDefault.pid), idle: cpuSeconds(idle.pid) };
    const countsBefore = new Map(counter?.counts);
    const rss = { loaded: [] as number[], atDefault: [] as number[], idle: [] as number[] };
    while (Date.now() - startedMs < seconds * 1000) {
      rss.loaded.push(rssBytes(loaded.pid));
      rss.atDefault.push(rssBytes(atDefault.pid));
      rss.idle.push(rssBytes(idle.pid));
      await pause(1000);
    }
    const elapsedSeconds = (Date.now() - startedMs) / 1000;
    const cpu = { loaded: cpuSeconds(loaded.pid) - cpuBefore.loaded, atDefault: cpuSeconds(atDefault.pid) - cpuBefore.atDefault, idle: cpuSeconds(idle.pid) - cpuBefore.idle };
    const liveHeapGrowthMb = ((await liveHeapBytes(loaded)) - liveHeapBefore) / MB;
    const collections = counter ? Object.fromEntries([...counter.counts].map(([source, count]) => [source, count - (countsBefore.get(source) ?? 0)])) : undefined;
    // The source that collected least sets the cycle count (a slow one skips ticks): a cost per cycle that errs high.
    const cycles = collections ? Math.min(...Object.values(collections)) : Math.floor(elapsedSeconds / INTERVAL_SECONDS);

    const cpuPerCycleMs = ((cpu.loaded - cpu.idle) / cycles) * 1000;
    const percentOfCoreAt15s = cpuPerCycleMs / 1000 / DEFAULT_INTERVAL_SECONDS * 100;
    // Nothing subtracted: what the process at the default interval costs, its idle cost included.
    const wholeCpuPerMinute = { atDefault: (cpu.atDefault / elapsedSeconds) * 60, idle: (cpu.idle / elapsedSeconds) * 60 };
    const finalMb = (samples: readonly number[]) => median(samples.slice(-5)) / MB;
    const collectionRssMb = finalMb(rss.atDefault) - finalMb(rss.idle);
    const rssGrowthMb = growth(rss.loaded) / MB;
    const idleRssGrowthMb = growth(rss.idle) / MB;
    return {
      rows: [
        ['sources', describeSources(sources)],
        ['run', `${Math.round(elapsedSeconds)} s at a ${INTERVAL_SECONDS} s interval: ${cycles} cycles${collections ? '' : ' (nominal: no /stream to count them)'}`],
        ['CPU, every source vs idle', `${round(cpu.loaded, 2)} s vs ${round(cpu.idle, 2)} s → ${round(cpuPerCycleMs, 3)} ms per cycle`],
        [`CPU at the ${DEFAULT_INTERVAL_SECONDS} s interval`, `${round(percentOfCoreAt15s, 4)} % of one core for collection alone (idle copy subtracted)`],
        [
          `whole process at ${DEFAULT_INTERVAL_SECONDS} s, nothing subtracted`,
          `${round(wholeCpuPerMinute.atDefault, 3)} s CPU per minute = ${round((wholeCpuPerMinute.atDefault / 60) * 100, 3)} % of one core (idle copy: ${round(wholeCpuPerMinute.idle, 3)} s per minute)`,
        ],
        ['RSS, every source at 15 s vs idle', `${round(finalMb(rss.atDefault), 1)} MB vs ${round(finalMb(rss.idle), 1)} MB → ${round(collectionRssMb, 1)} MB for collection (at ${INTERVAL_SECONDS} s: ${round(finalMb(rss.loaded), 1)} MB)`],
        ['live heap growth over the run', `${round(liveHeapGrowthMb, 2)} MB after a full GC (${round(liveHeapBefore / MB, 1)} MB after the warm-up)`],
        ['RSS growth over the run', `${round(rssGrowthMb, 2)} MB (idle baseline: ${round(idleRssGrowthMb, 2)} MB; V8 sizing its heap, not retained objects)`],
      ],
      checks: [
        check('collectionCpuPercent', round(percentOfCoreAt15s, 4)),
        check('collectionCpuTargetPercent', round(percentOfCoreAt15s, 4)),
        check('collectionRssMb', round(collectionRssMb, 1)),
        check('collectionHeapGrowthMb', round(liveHeapGrowthMb, 2)),
      ],
      data: {
        sources,
        intervalSeconds: INTERVAL_SECONDS,
        seconds: round(elapsedSeconds, 1),
        cycles,
        cyclesObserved: collections !== undefined,
        collectionsPerSource: collections ?? null,
        cpuSeconds: { everySource: round(cpu.loaded, 3), everySourceAt15s: round(cpu.atDefault, 3), idle: round(cpu.idle, 3) },
        wholeProcessCpuSecondsPerMinute: { everySourceAt15s: round(wholeCpuPerMinute.atDefault, 3), idle: round(wholeCpuPerMinute.idle, 3) },
        cpuPerCycleMs: round(cpuPerCycleMs, 3),
        percentOfCoreAt15s: round(percentOfCoreAt15s, 4),
        rssMb: { everySourceAt15s: round(finalMb(rss.atDefault), 1), everySourceFast: round(finalMb(rss.loaded), 1), idle: round(finalMb(rss.idle), 1) },
        collectionRssMb: round(collectionRssMb, 1),
        liveHeapMbAfterWarmUp: round(liveHeapBefore / MB, 2),
        liveHeapGrowthMb: round(liveHeapGrowthMb, 2),
        rssGrowthMb: round(rssGrowthMb, 2),
        idleRssGrowthMb: round(idleRssGrowthMb, 2),
        rssSamplesMb: rss.loaded.map((bytes) => round(bytes / MB, 1)),
      },
    };
  } finally {
    counter?.close();
    await Promise.all(servers.map((server) => server.stop()));
    await database.drop();
  }
}
