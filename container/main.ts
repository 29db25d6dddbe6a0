#!/usr/bin/env node
// The lite build (ES2015+, no Map/WeakMap shims), the one inversify loads itself: the full one would be a second copy.
import 'reflect-metadata/lite';
import { createContainer } from './index';
import { helpText, parseCommandLine } from '../src/command-line';
import { ConfigError } from '../src/settings';
import { VERSION } from '../src/version';
import { loadConfig, SETTINGS_GROUPS } from '../streams/config';
import { errorText } from '../src/error-text';
import { EngineUnavailableError } from '../src/http/http-engines';
import { createLogger } from '../src/logger';
import { MetricsService } from '../src/service';
import { QUERIES_FILE } from '../streams/database/settings';

const SHUTDOWN_DEADLINE_MS = 5000;

async function main(): Promise<void> {
  const commandLine = parseCommandLine(process.argv.slice(2));
  switch (commandLine.action) {
    case 'help':
      process.stdout.write(helpText(SETTINGS_GROUPS, VERSION));
      return;
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case 'error':
      process.stderr.write(`iotflow-metrics: ${commandLine.message}\n`);
      process.exit(2);
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const container = createContainer(config, logger);
  // The database source's queries file: read now, so a broken one stops the start; SIGHUP reads it again.
  const queriesFile = container.isBound(QUERIES_FILE) ? loadOrExit(() => container.get(QUERIES_FILE)) : undefined;
  process.on('SIGHUP', () => {
    if (queriesFile) queriesFile.reload();
    else logger.info('SIGHUP received: no DATABASE_QUERIES_FILE to reload');
  });
  const service = new MetricsService(container);
  let port: number;
  try {
    port = await service.start();
  } catch (error) {
    // A forced HTTP_ENGINE that cannot load here is a settings error like any other.
    const unavailable = [error, (error as { cause?: unknown })?.cause].find((cause) => cause instanceof EngineUnavailableError);
    if (unavailable) {
      process.stderr.write(`configuration error: ${(unavailable as Error).message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(`iotflow-metrics listening on ${config.tls ? 'https' : 'http'}://${host}:${port}, sources: ${[...config.sources].join(',')}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    // Whatever hangs, the process is gone within the deadline, and says it did not stop cleanly.
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS - 500} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS - 500).unref();
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${errorText(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The value of `load`, or exit 2 naming the file, the line and the problem. */
function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof Error && error.name === 'QueriesFileError')) throw error;
    process.stderr.write(`configuration error: DATABASE_QUERIES_FILE ${errorText(error)}\n`);
    process.exit(2);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
