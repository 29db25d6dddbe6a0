/**
 * CPU per scrape of each exposition variant, in one process, alternating: the /metrics handler
 * of a registry carrying the runtime metrics and a busy application's 350 request series, called
 * directly (no sockets), one variant after the other in every round, so machine noise falls on
 * all alike. Between two scrapes one request is recorded, as traffic would, so every scrape's
 * body differs from the last ("changed"); the "unchanged" rows scrape twice in a row without.
 * Prints one JSON line: { variant: { cpuMsPerScrape, bytes } }.
 * Usage: node dist/bench/scrape-cpu.js [rounds] [scrapesPerRound]
 */
import 'reflect-metadata';
import { createRegistry } from '../src/metrics/registry';
import { metricsRoute } from '../src/http/service-routes';
import type { HttpReply, HttpRequest } from '../src/http/route-table';
import { createLogger } from '../src/logger';
import { HttpRequestMetrics } from '../src/metrics/http-request-metrics';
import { SOURCE_NAMES } from '../streams/sources';
import { APP_ROUTES, STATUSES } from './servers/app-routes';

const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

const VARIANTS: Record<string, Record<string, string>> = {
  text: { accept: '', 'accept-encoding': '' },
  'text+gzip': { accept: '', 'accept-encoding': 'gzip' },
  protobuf: { accept: PROTOBUF_ACCEPT, 'accept-encoding': '' },
  'protobuf+gzip': { accept: PROTOBUF_ACCEPT, 'accept-encoding': 'gzip' },
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20);
  const perRound = Number(process.argv[3] ?? 25);
  const registry = createRegistry();
  const metrics = new HttpRequestMetrics(registry);
  const recorders = APP_ROUTES.map(({ method, template }) => ({ method, recorder: metrics.route(template) }));
  let n = 0;
  const traffic = () => {
    const { method, recorder } = recorders[n % recorders.length]!;
    recorder.begin(method);
    recorder.end(method, STATUSES[n % STATUSES.length]!, ((n++ % 1000) + 1) / 20_000);
  };
  for (let i = 0; i < 50_000; i++) traffic();
  const route = metricsRoute(registry, createLogger('error'), SOURCE_NAMES);
  const scrape = async (headers: Record<string, string>): Promise<number> => {
    const request: HttpRequest = { method: 'GET', path: '/metrics', query: '', params: {}, headers, remoteAddress: '' };
    const reply = (await route.handler(request)) as HttpReply;
    const bytes = reply.body.length;
    reply.released?.();
    return bytes;
  };
  const cpuMs: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  const scrapes: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, headers] of Object.entries(VARIANTS)) {
      for (const changed of [true, false]) {
        const key = `${name} (${changed ? 'changed' : 'unchanged'})`;
        await scrape(headers); // settles the caches for the unchanged case
        const start = process.cpuUsage(); // the whole process: zlib's pool threads included
        for (let i = 0; i < perRound; i++) {
          if (changed) traffic();
          bytes[key] = await scrape(headers);
        }
        const used = process.cpuUsage(start);
        cpuMs[key] = (cpuMs[key] ?? 0) + (used.user + used.system) / 1000;
        scrapes[key] = (scrapes[key] ?? 0) + perRound;
      }
    }
  }
  const result = Object.fromEntries(Object.keys(cpuMs).map((key) => [key, { cpuMsPerScrape: Math.round((cpuMs[key]! / scrapes[key]!) * 1000) / 1000, bytes: bytes[key] }]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`scrape-cpu: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
