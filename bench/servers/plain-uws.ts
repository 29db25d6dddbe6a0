/**
 * Baseline of the overhead suite: the bench application on bare uWebSockets.js, no request
 * tracking. It does what the tracked server's adapter must do for a handler anyway (read the route
 * parameter, answer with a status line, a header and a body); nothing else.
 */
import * as uws from 'uWebSockets.js';
import { APP_ROUTES, JSON_CONTENT_TYPE, replyBody, requestedStatus } from './app-routes';

const STATUS_LINES: Record<number, string> = { 200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found', 500: '500 Internal Server Error', 503: '503 Service Unavailable' };

const app = uws.App();
for (const route of APP_ROUTES) {
  const hasId = route.template.includes(':id');
  const handler = (res: uws.HttpResponse, req: uws.HttpRequest) => {
    const status = requestedStatus(req.getQuery() ?? '');
    const body = replyBody(hasId ? req.getParameter(0) : undefined);
    res.writeStatus(STATUS_LINES[status] ?? String(status)).writeHeader('Content-Type', JSON_CONTENT_TYPE).end(body);
  };
  if (route.method === 'GET') app.get(route.template, handler);
  else if (route.method === 'POST') app.post(route.template, handler);
  else if (route.method === 'PUT') app.put(route.template, handler);
  else app.del(route.template, handler);
}

const host = process.env.HOST ?? '127.0.0.1';
app.listen(host, Number(process.env.PORT ?? 0), (socket) => {
  if (!socket) {
    process.stderr.write('plain-uws: cannot listen\n');
    process.exit(1);
  }
  process.stderr.write(`listening on ${host}:${uws.us_socket_local_port(socket)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
