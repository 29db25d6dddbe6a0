/** Peer of the overhead suite: the bench application on fastify 5 with fastify-metrics (route metrics on). */
import Fastify from 'fastify';
import metricsPlugin from 'fastify-metrics';
import { APP_ROUTES, JSON_CONTENT_TYPE, replyBody, requestedStatus } from './app-routes';

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(metricsPlugin, { endpoint: '/metrics', defaultMetrics: { enabled: true }, routeMetrics: { enabled: true } });
  for (const { method, template } of APP_ROUTES) {
    app.route({
      method,
      url: template,
      handler: (request, reply) => {
        const query = request.raw.url?.split('?')[1] ?? '';
        reply.code(requestedStatus(query)).type(JSON_CONTENT_TYPE).send(replyBody((request.params as { id?: string }).id));
      },
    });
  }
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen({ host, port: Number(process.env.PORT ?? 0) });
  const address = app.server.address();
  process.stderr.write(`listening on ${host}:${typeof address === 'object' && address ? address.port : 0}\n`);
  process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`fastify-metrics: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
