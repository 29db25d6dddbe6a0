/**
 * stream: N WebSocket clients on /stream of the service (every source, collected every second).
 * Clients live in separate processes (bench/clients/stream-listeners.ts, one per 1 000 clients at
 * most). For every message published after the last client connected — one per source per
 * collection — the fan-out time is from the collection's timestamp to the moment the last client
 * received it. A fresh service per N, so each step's memory starts from the same place: memory per
 * client is the slope of the service's RSS with its clients over N (least squares over the steps),
 * since one step's RSS before and after differ by a garbage collection as much as by its clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import WebSocket from 'ws';
import type { ListenerReport } from '../clients/stream-listeners';
import { createIotflowDatabase } from '../lib/iotflow-database';
import { distScript, pause, rssBytes, ROOT, serverEnv, startNodeServer } from '../lib/processes';
import { type BenchOptions, check, skipped, type SuiteOutcome } from '../lib/report';
import { waitForSourcesUp } from '../lib/service-state';
import { MB, median, round, slope } from '../lib/stats';

const CLIENTS_PER_PROCESS = 1000;
/** Messages younger than this when the report is asked for may still be on their way: not judged. */
const IN_FLIGHT_MS = 1000;

interface StepResult {
  readonly clients: number;
  readonly messagesJudged: number;
  /** Client deliveries missing from the judged messages. */
  readonly undelivered: number;
  readonly fanOutMedianMs: number;
  readonly fanOutMaxMs: number;
  /** The service's RSS with its clients connected. */
  readonly rssMb: number;
}

/** Whether the service on `port` accepts a WebSocket on /stream. */
function streamAvailable(port: number): Promise<boolean> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/stream`);
  return new Promise((resolve) => {
    socket.once('open', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.once('unexpected-response', () => resolve(false));
  }).finally(() => socket.terminate()) as Promise<boolean>;
}

/** Resolves with the first stdout line of `child` starting with one of `words` (the word and the rest). */
function lineOf(child: ChildProcess, words: readonly string[]): Promise<[string, string]> {
  let buffer = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n').slice(0, -1)) {
        const word = words.find((candidate) => line === candidate || line.startsWith(`${candidate} `));
        if (word !== undefined) {
          child.stdout?.off('data', onData);
          resolve([word, line.slice(word.length + 1)]);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`stream listeners exited with ${code} before ${words.join('/')}`)));
  });
}

async function measureStep(databaseUrl: string, clients: number, listenSeconds: number): Promise<StepResult | 'unavailable'> {
  const service = await startNodeServer('service', 'container/main.js', serverEnv({ DATABASE_URL: databaseUrl, COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0', STREAM_MAX_CLIENTS: '100000', STREAM_MAX_CLIENTS_PER_ADDRESS: '100000' }));
  const listeners: ChildProcess[] = [];
  try {
    await waitForSourcesUp(service.port);
    if (!(await streamAvailable(service.port))) return 'unavailable';
    await pause(2000); // first collections serialized, heap settled
    for (let assigned = 0; assigned < clients; assigned += CLIENTS_PER_PROCESS) {
      const share = Math.min(CLIENTS_PER_PROCESS, clients - assigned);
      listeners.push(spawn(process.execPath, [distScript('bench/clients/stream-listeners.js'), String(service.port), String(share)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }));
    }
    const connected = await Promise.all(listeners.map((child) => lineOf(child, ['connected', 'failed'])));
    const failure = connected.find(([word]) => word === 'failed');
    if (failure) throw new Error(`stream clients could not connect: ${failure[1]}`);
    const connectedAtMs = Date.now();
    await pause(listenSeconds * 1000);
    const rssWithBytes = rssBytes(service.pid);
    const reportAtMs = Date.now();
    const reports = await Promise.all(
      listeners.map(async (child) => {
        const report = lineOf(child, ['report']);
        child.stdin?.write('report\n');
        return JSON.parse((await report)[1]) as ListenerReport;
      }),
    );
    return summarizeStep(clients, reports, connectedAtMs, reportAtMs, rssWithBytes);
  } finally {
    for (const child of listeners) child.kill('SIGKILL');
    await service.stop();
  }
}

function summarizeStep(clients: number, reports: readonly ListenerReport[], fromMs: number, reportAtMs: number, rssWithBytes: number): StepResult {
  const merged = new Map<string, { timestamp: number; clients: number; lastAtMs: number }>();
  for (const { messages } of reports) {
    for (const [source, timestamp, received, lastAtMs] of messages) {
      if (timestamp < fromMs || timestamp > reportAtMs - IN_FLIGHT_MS) continue;
      const key = `${source} ${timestamp}`;
      const entry = merged.get(key);
      if (entry) {
        entry.clients += received;
        entry.lastAtMs = Math.max(entry.lastAtMs, lastAtMs);
      } else {
        merged.set(key, { timestamp, clients: received, lastAtMs });
      }
    }
  }
  const judged = [...merged.values()];
  const fanOuts = judged.map(({ timestamp, lastAtMs }) => lastAtMs - timestamp);
  return {
    clients,
    messagesJudged: judged.length,
    undelivered: judged.reduce((sum, entry) => sum + (clients - entry.clients), 0),
    fanOutMedianMs: median(fanOuts),
    fanOutMaxMs: fanOuts.length > 0 ? Math.max(...fanOuts) : NaN,
    rssMb: round(rssWithBytes / MB, 1),
  };
}

export async function streamSuite({ quick, log }: BenchOptions): Promise<SuiteOutcome> {
  const steps = quick ? [200, 1000] : [100, 500, 1000, 2000, 4000];
  const listenSeconds = quick ? 4 : 10;
  const database = await createIotflowDatabase();
  try {
    const results: StepResult[] = [];
    for (const clients of steps) {
      const result = await measureStep(database.url, clients, listenSeconds);
      if (result === 'unavailable') return skipped('/stream not available');
      results.push(result);
      log(`${clients} clients: tick → last client median ${result.fanOutMedianMs} ms, max ${result.fanOutMaxMs} ms over ${result.messagesJudged} messages; ${result.undelivered} undelivered; RSS ${result.rssMb} MB`);
    }
    const largest = results.at(-1)!;
    const perClientKb = round((slope(results.map(({ clients, rssMb }) => [clients, rssMb])) * MB) / 1024, 2);
    return {
      rows: [
        ...results.map((result): [string, string] => [
          `${result.clients} clients`,
          `tick → last client ${result.fanOutMedianMs} ms median, ${result.fanOutMaxMs} ms max (${result.messagesJudged} messages); ${result.undelivered} undelivered; service RSS ${result.rssMb} MB`,
        ]),
        ['memory per client', `${perClientKb} KB (slope of RSS over ${results.map(({ clients }) => clients).join(', ')} clients)`],
      ],
      checks: [check('streamUndelivered', results.reduce((sum, result) => sum + result.undelivered, 0)), check('streamFanOutMs', largest.fanOutMedianMs)],
      data: { collectionIntervalSeconds: 1, listenSeconds, steps: results, memoryPerClientKb: perClientKb },
    };
  } finally {
    await database.drop();
  }
}
