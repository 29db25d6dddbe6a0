import type * as uws from 'uWebSockets.js';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import { type HttpRequestMetrics, methodLabel, type RouteRecorder, UNMATCHED_ENDPOINT } from '../metrics/http-request-metrics';
import { urlTooLong } from './request-limits';
import { type HttpReply, type HttpRequest, parameterNames, patternMatcher, type Route } from './route-table';
import { Exchange, type ExchangeHandler } from './uws-exchange';

const NOT_FOUND: HttpReply = { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found\n' };

/** The part of a route that says what to copy out of uWS's request. */
type RequestShape = Pick<Route, 'path' | 'headers' | 'readsPeerAddress'>;

/**
 * The HTTP half of the uWS adapter: registers the routes (with HEAD for each GET, 405 with `Allow`
 * for the other methods of a served path, 404 for the rest), each request answered by an Exchange.
 */
export class UwsHttp {
  constructor(
    private readonly app: uws.TemplatedApp,
    private readonly metrics: HttpRequestMetrics,
    private readonly logger: Logger,
    private readonly work: WorkNotice,
  ) {}

  /** Registers `routes`; `webSocketPaths` are served too (as GET), so they get a 405 for other methods, not a 404. */
  register(routes: readonly Route[], webSocketPaths: readonly string[]): void {
    const explicitHead = new Set(routes.filter((route) => route.method === 'HEAD').map((route) => route.path));
    for (const route of routes) this.registerRoute(route, route.method === 'GET' && !explicitHead.has(route.path));
    const unmatched = this.metrics.route(UNMATCHED_ENDPOINT);
    const otherMethods = this.otherMethodReplies(routes, explicitHead, webSocketPaths);
    this.app.any('/*', (res, req) => {
      this.work.noteWork();
      const method = methodLabel(req.getMethod());
      const path = req.getUrl();
      const known = otherMethods.find(({ matches }) => matches(path));
      new Exchange(res, method, known?.recorder ?? unmatched, this.logger).answer(known?.reply ?? NOT_FOUND);
    });
  }

  private registerRoute(route: Route, alsoHead: boolean): void {
    const recorder = this.metrics.route(route.path);
    const read = requestReader(route);
    const handler: ExchangeHandler = (request) => urlTooLong(request) ?? route.handler(request);
    const handle = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
      this.work.noteWork();
      const method = methodLabel(req.getMethod());
      // uWS's request object is only valid until this callback returns: copy everything now.
      const request = read(res, req, method);
      new Exchange(res, method, recorder, this.logger).run(handler, request);
    };
    switch (route.method) {
      case 'GET':
        this.app.get(route.path, handle);
        // HEAD of every GET route (RFC 9110 §9.1), unless the application serves HEAD itself.
        if (alsoHead) this.app.head(route.path, handle);
        break;
      case 'HEAD': this.app.head(route.path, handle); break;
      case 'POST': this.app.post(route.path, handle); break;
      case 'PUT': this.app.put(route.path, handle); break;
      case 'DELETE': this.app.del(route.path, handle); break;
      case 'PATCH': this.app.patch(route.path, handle); break;
      case 'OPTIONS': this.app.options(route.path, handle); break;
    }
  }

  /**
   * 405 with `Allow` for each path served, for a request with a method it is not served with;
   * counted under the route's template, so the series stay bounded by routes × methods.
   */
  private otherMethodReplies(routes: readonly Route[], explicitHead: ReadonlySet<string>, webSocketPaths: readonly string[]): Array<{ matches: (path: string) => boolean; recorder: RouteRecorder; reply: HttpReply }> {
    const methods = new Map<string, Set<string>>();
    const served = [
      ...routes.map(({ path, method }) => ({ path, allowed: method === 'GET' && !explicitHead.has(path) ? ['GET', 'HEAD'] : [method] })),
      ...webSocketPaths.map((path) => ({ path, allowed: ['GET'] })),
    ];
    for (const { path, allowed } of served) methods.set(path, new Set([...(methods.get(path) ?? []), ...allowed]));
    return [...methods].map(([pattern, allowed]) => ({
      matches: patternMatcher(pattern),
      recorder: this.metrics.route(pattern),
      reply: { status: 405, headers: { Allow: [...allowed].join(', '), 'Content-Type': 'text/plain' }, body: 'method not allowed\n' },
    }));
  }
}

/** Copies what a route's handler reads out of uWS's request, which is only valid during its callback. */
export function requestReader(route: RequestShape): (res: uws.HttpResponse, req: uws.HttpRequest, method: string) => HttpRequest {
  const parameters = parameterNames(route.path);
  const headerNames: ReadonlySet<string> = new Set(route.headers ?? []);
  const peerAddress = route.readsPeerAddress === true;
  return (res, req, method) => {
    const params: Record<string, string> = {};
    parameters.forEach((name, index) => (params[name] = req.getParameter(index)));
    const headers: Record<string, string> = {};
    for (const name of headerNames) headers[name] = '';
    if (headerNames.size > 0) {
      // A header sent twice is read as one comma-separated list (RFC 9110 §5.3), so a second
      // X-Forwarded-For line cannot hide behind the first.
      req.forEach((name, value) => {
        if (headerNames.has(name)) headers[name] = headers[name] === '' ? value : `${headers[name]}, ${value}`;
      });
    }
    return {
      method,
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      params,
      headers,
      // getRemoteAddressAsText() allocates an ArrayBuffer per call: ~25 % of a small request's cost.
      remoteAddress: peerAddress ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
    };
  };
}
