/**
 * The bench application embedded in this project, as a user would embed it: the container, the
 * application's 50 routes added to the RouteTable (so the uWS adapter counts them), then the
 * service (collection engine, /metrics, /health, /stream). Configured from the environment like
 * the service itself; SOURCES=app keeps collection out of the overhead suite.
 */
import 'reflect-metadata';
import { createContainer } from '../../container';
import { TYPES } from '../../src/tokens';
import { loadConfig } from '../../streams/config';
import { createLogger } from '../../src/logger';
import { MetricsService } from '../../src/service';
import { APP_ROUTES, JSON_CONTENT_TYPE, replyBody, requestedStatus } from './app-routes';

const HEADERS = { 'Content-Type': JSON_CONTENT_TYPE };

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const container = createContainer(config, createLogger(config.logLevel));
  const routes = container.get(TYPES.RouteTable);
  for (const { method, template } of APP_ROUTES) {
    routes.add({ method, path: template, handler: (request) => ({ status: requestedStatus(request.query), headers: HEADERS, body: replyBody(request.params.id) }) });
  }
  const service = new MetricsService(container);
  const port = await service.start();
  process.stderr.write(`listening on ${config.host}:${port}\n`);
  process.on('SIGTERM', () => void service.stop().finally(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`tracked-app: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
