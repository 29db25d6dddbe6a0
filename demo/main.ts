import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createContainer } from '../container';
import { TYPES } from '../src/tokens';
import { ConfigError } from '../src/settings';
import { loadConfig, type ServiceConfig } from '../streams/config';
import { redisConnectionOptions } from '../streams/redis-connector';
import { createInstrumentedPool } from '../src/db/instrumented-pool';
import { errorText } from '../src/error-text';
import { createLogger } from '../src/logger';
import { MetricsService } from '../src/service';
import { CACHE_TTL_SECONDS, deleteKeys, deviceApiRoutes, HttpTrafficDriver } from './device-api';
import { FleetSimulator } from './fleet';
import { createFleetDatabase } from './fleet-database';
import { DEMO_USAGE, DemoUsageError, parseDemoOptions, type DemoOptions } from './options';
import { PrometheusUnavailableError, startPrometheus } from './prometheus';
import { describeTally, TelemetryCheck } from './telemetry-check';

/** The repository root (this file runs from dist/demo/). */
const ROOT = path.resolve(__dirname, '..', '..');
/** The demo's Prometheus scrapes more often than a production one (15 s), so a newcomer sees graphs move sooner. */
const PROMETHEUS_SCRAPE_SECONDS = 5;
const SHUTDOWN_DEADLINE_MS = 15_000;

const say = (line = ''): void => void process.stdout.write(`${line}\n`);

class Cancelled extends Error {}

/**
 * `npm run demo`: a simulated IoTFlow on this machine's PostgreSQL, Redis and Mosquitto, and the
 * exporter watching it, in one process; with --prometheus, a Prometheus scraping it.
 */
async function main(): Promise<void> {
  let options: DemoOptions;
  let baseConfig: ServiceConfig;
  try {
    options = parseDemoOptions(process.argv.slice(2));
    baseConfig = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof DemoUsageError || error instanceof ConfigError)) throw error;
    process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'demo'}: ${error.message}\n${error instanceof DemoUsageError ? `\n${DEMO_USAGE}\n` : ''}`);
    process.exit(2);
  }
  if (options.help) {
    say(DEMO_USAGE);
    return;
  }

  // What was started, undone in reverse order on the way out; nothing else is touched.
  const undo: { what: string; run: () => Promise<unknown> | void }[] = [];
  let stopping = false;
  let started = false;
  const shutdown = async (exitCode: number) => {
    setTimeout(() => {
      process.stderr.write(`demo: stopping took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (error) {
        exitCode = 1;
        process.stderr.write(`demo: ${step.what} failed: ${errorText(error)}\n`);
      }
    }
    process.exit(exitCode);
  };
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the demo`);
    if (started) void shutdown(0);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Each step starts only if no signal came; what a step started is in `undo` before the next one asks.
  const step = <T>(work: () => Promise<T>): Promise<T> => (stopping ? Promise.reject(new Cancelled()) : work());

  try {
    await run(options, baseConfig, undo, step);
    started = true;
    if (stopping) await shutdown(0);
  } catch (error) {
    if (!(error instanceof Cancelled)) process.stderr.write(`demo: ${errorText(error)}\n`);
    await shutdown(error instanceof Cancelled ? 0 : 1);
  }
}

async function run(
  options: DemoOptions,
  baseConfig: ServiceConfig,
  undo: { what: string; run: () => Promise<unknown> | void }[],
  step: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<void> {
  say('iotflow-metrics demo: a simulated IoTFlow fleet and the exporter watching it');

  const database = await step(() =>
    createFleetDatabase({ adminUrl: baseConfig.databaseUrl, name: options.database, devices: options.devices, onlineWindowSeconds: baseConfig.deviceOnlineWindowSeconds }),
  );
  const server = new URL(database.url);
  say(`  database  ${database.name} on ${server.host}${database.replaced ? ' (a previous demo left it: recreated)' : ''}: ${options.devices} devices`);
  if (options.keepDatabase) undo.push({ what: 'leaving the database', run: () => say(`kept database ${database.name}`) });
  else undo.push({ what: `dropping database ${database.name}`, run: async () => say((await database.drop()) ? `dropped database ${database.name}` : `left database ${database.name}: another demo has recreated it`) });

  // The exporter runs as `npm start` would, on the demo's database, and in a share group of its own:
  // in the default group, other exporters on the broker would take a share of the fleet's messages.
  const config = loadConfig({ ...process.env, DATABASE_URL: database.url, MQTT_SHARE_GROUP: `iotflow-demo-${randomBytes(6).toString('hex')}` });
  const logger = createLogger(config.logLevel);
  const container = createContainer(config, logger);

  // The demo is the application embedding the exporter: its queries are counted in the exporter's registry.
  const pool = createInstrumentedPool({ connectionString: database.url, max: 4 }, container.get(TYPES.Registry));
  // A terminated backend (pg_terminate_backend, a failover, the database recreated by another demo)
  // fails its idle connection: the pool drops it and the next query opens a new one.
  pool.on('error', (error) => logger.warn(`demo: an idle database connection failed: ${errorText(error)}; the next query reconnects`));
  undo.push({ what: 'closing the database pool', run: () => pool.end() });

  const cacheKeyPrefix = `${database.name}:`;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, ...redisConnectionOptions(config.redisTls) });
  // A Redis going away shows as the `redis` source down, and the cache is skipped; at start, its error says why it cannot connect.
  let redisError: unknown;
  redis.on('error', (error: unknown) => (redisError = error));
  await step(() => redis.connect().catch((error: unknown) => Promise.reject(new Error(`cannot reach Redis (REDIS_URL): ${errorText(redisError ?? error)}`))));
  undo.push({
    what: 'removing the cache keys',
    run: async () => {
      await deleteKeys(redis, cacheKeyPrefix);
      redis.disconnect();
    },
  });

  const fleet = await step(() =>
    FleetSimulator.start({ pool, mqttUrl: config.mqttUrl, mqttTls: config.mqttTls, devices: options.devices, ratePerSecond: options.rate, onProblem: (message) => logger.warn(message) }).catch(
      (error: unknown) => Promise.reject(new Error(`cannot reach the MQTT broker (MQTT_URL): ${errorText(error)}`)),
    ),
  );
  undo.push({ what: 'stopping the fleet', run: () => fleet.stop() });
  say(`  fleet     publishing ${options.rate} telemetry messages/s on iotflow/devices/{id}/telemetry/{sensors|metrics|events}, counted in share group ${config.mqttShareGroup}`);

  const routes = container.get(TYPES.RouteTable);
  for (const route of deviceApiRoutes({ pool, redis, cacheKeyPrefix, fleet })) routes.add(route);
  const service = new MetricsService(container);
  // Before start: collections begin before the port is bound, and go on if binding fails.
  undo.push({ what: 'stopping the exporter', run: () => service.stop() });
  const port = await step(() => service.start());

  const mqttSource = container.getAll(TYPES.MetricSource).find((source) => source.name === 'mqtt');
  if (mqttSource) {
    const check = new TelemetryCheck(mqttSource, fleet, (message) => logger.error(`demo: ${message}`));
    // Runs before the exporter stops: the fleet's last messages are acknowledged, then counted.
    undo.push({
      what: 'comparing the telemetry count',
      run: async () => {
        await fleet.stop();
        const { line, exact } = describeTally(await check.finish());
        if (exact) say(line);
        else process.stderr.write(`demo: ${line}\n`);
      },
    });
  }

  const scheme = config.tls ? 'https' : 'http';
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `${scheme}://${host}:${port}`;
  const traffic = new HttpTrafficDriver({ baseUrl: base, devices: options.devices, requestsPerSecond: options.httpRate, onProblem: (message) => logger.warn(message) });
  undo.push({ what: 'stopping the HTTP traffic', run: () => traffic.stop() });
  say(`  traffic   ${options.httpRate} requests/s to GET /api/v1/devices/:id (Redis cache, ${CACHE_TTL_SECONDS} s TTL) and POST /api/v1/devices/:id/telemetry`);

  say(`\nsources (collected every ${config.collectionIntervalSeconds} s):`);
  const health = container.get(TYPES.HealthState);
  const deadline = Date.now() + (config.collectionIntervalSeconds + config.collectionTimeoutSeconds) * 1000;
  while (Date.now() < deadline && health.report().status !== 'ok') await step(() => new Promise((resolve) => setTimeout(resolve, 100)));
  for (const [name, state] of Object.entries(health.report().sources)) say(`  ${name.padEnd(9)} ${state.up ? 'up' : `DOWN: ${state.error}`}`);
  // Only now: the exporter has subscribed, so it can count every message the fleet publishes.
  fleet.startPublishing();

  let prometheusLine: string | undefined;
  if (options.prometheus) {
    try {
      const prometheus = await step(() =>
        startPrometheus({
          port: options.prometheusPort,
          target: `${host}:${port}`,
          scheme,
          scrapeIntervalSeconds: PROMETHEUS_SCRAPE_SECONDS,
          ruleFiles: [path.join(ROOT, 'prometheus', 'rules', '*.yml')],
          token: config.metricsToken,
          basicAuth: config.metricsBasicAuth,
        }),
      );
      undo.push({ what: 'stopping Prometheus', run: () => prometheus.stop() });
      prometheusLine = `  ${prometheus.url.padEnd(base.length + 9)} Prometheus, scraping every ${PROMETHEUS_SCRAPE_SECONDS} s with the rules of prometheus/rules/*.yml`;
    } catch (error) {
      if (!(error instanceof PrometheusUnavailableError)) throw error;
      say(`\n${error.message}`);
    }
  }

  say('\nopen:');
  say(`  ${base}/          the live page`);
  say(`  ${base}/metrics   the metrics, as Prometheus scrapes them`);
  say(`  ${base}/health    which sources are up`);
  say(`  ${scheme === 'https' ? 'wss' : 'ws'}://${host}:${port}/stream    the metrics live over WebSocket`);
  if (prometheusLine) say(prometheusLine);
  say(`\nCtrl-C stops everything the demo started${options.keepDatabase ? ` and keeps database ${database.name}` : ` and drops database ${database.name}`}.`);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
