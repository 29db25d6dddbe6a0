/** Peer of the overhead suite: the bench application on express 5 with express-prom-bundle (method, path and status labels). */
import express from 'express';
import promBundle from 'express-prom-bundle';
import { APP_ROUTES, JSON_CONTENT_TYPE, replyBody, requestedStatus } from './app-routes';

const app = express();
app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true, includeUp: false, promClient: { collectDefaultMetrics: {} } }));
for (const { method, template } of APP_ROUTES) {
  const verb = method === 'GET' ? 'get' : method === 'POST' ? 'post' : method === 'PUT' ? 'put' : 'delete';
  app[verb](template, (request, response) => {
    const query = request.url.split('?')[1] ?? '';
    response.status(requestedStatus(query)).type(JSON_CONTENT_TYPE).send(replyBody(request.params.id as string | undefined));
  });
}

const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(Number(process.env.PORT ?? 0), host, () => {
  const address = server.address();
  process.stderr.write(`listening on ${host}:${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
