import { type HttpRequestMetrics, type RouteRecorder, UNMATCHED_ENDPOINT } from '../metrics/http-request-metrics';
import type { ExchangeHandler } from './exchange';
import { urlTooLong } from './request-limits';
import { type HttpMethod, type HttpReply, patternMatcher, type Route } from './route-table';
import type { WebSocketRoute } from './websocket-route';

const NOT_FOUND: HttpReply = { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found\n' };

/** One (method, pattern) an engine serves, with its recorder and its handler behind the URL limit. */
export interface ServedRoute {
  readonly method: HttpMethod;
  readonly route: Route;
  readonly recorder: RouteRecorder;
  readonly handler: ExchangeHandler;
}

/** The reply of a request no served route took: a 405 with `Allow` for a served path, else a 404. */
export interface UnservedReply {
  readonly recorder: RouteRecorder;
  readonly reply: HttpReply;
}

/**
 * What every engine serves, independent of the engine: each route under its method, HEAD for each
 * GET (RFC 9110 §9.1) unless the application serves HEAD itself, a 405 with `Allow` for the other
 * methods of a served path (counted under its template, so series stay bounded by routes × methods),
 * and a 404 under one fixed endpoint for the rest.
 */
export class RoutePlan {
  readonly served: readonly ServedRoute[];
  private readonly otherMethods: ReadonlyArray<{ matches: (path: string) => boolean } & UnservedReply>;
  private readonly notFound: UnservedReply;

  /** `webSocketPaths` are served too (as GET), so they get a 405 for other methods, not a 404. */
  constructor(routes: readonly Route[], webSocketPaths: readonly string[], metrics: HttpRequestMetrics) {
    const explicitHead = new Set(routes.filter((route) => route.method === 'HEAD').map((route) => route.path));
    const alsoHead = (route: Route) => route.method === 'GET' && !explicitHead.has(route.path);
    this.served = routes.flatMap((route) => {
      const recorder = metrics.route(route.path);
      const handler = withUrlLimit(route.handler);
      const methods: HttpMethod[] = alsoHead(route) ? ['GET', 'HEAD'] : [route.method];
      return methods.map((method) => ({ method, route, recorder, handler }));
    });
    const methods = new Map<string, Set<string>>();
    const paths = [...routes.map(({ path, method }) => ({ path, allowed: alsoHead({ path, method } as Route) ? ['GET', 'HEAD'] : [method] })), ...webSocketPaths.map((path) => ({ path, allowed: ['GET'] }))];
    for (const { path, allowed } of paths) methods.set(path, new Set([...(methods.get(path) ?? []), ...allowed]));
    this.otherMethods = [...methods].map(([pattern, allowed]) => ({
      matches: patternMatcher(pattern),
      recorder: metrics.route(pattern),
      reply: { status: 405, headers: { Allow: [...allowed].join(', '), 'Content-Type': 'text/plain' }, body: 'method not allowed\n' },
    }));
    this.notFound = { recorder: metrics.route(UNMATCHED_ENDPOINT), reply: NOT_FOUND };
  }

  /** The reply to a request for `path` that no served route took. */
  unserved(path: string): UnservedReply {
    return this.otherMethods.find(({ matches }) => matches(path)) ?? this.notFound;
  }
}

/** A route's handler behind the URL length limit (a 414 for a longer URL). */
export function withUrlLimit(handler: Route['handler'] | WebSocketRoute['handler']): ExchangeHandler {
  return (request) => urlTooLong(request) ?? handler(request);
}

/**
 * The headers a route declared (lower-case names), '' when absent. A header sent twice is read as
 * one comma-separated list (RFC 9110 §5.3), so a second X-Forwarded-For line cannot hide behind the first.
 */
export function declaredHeaders(names: ReadonlySet<string>, each: (visit: (name: string, value: string) => void) => void): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = '';
  if (names.size > 0) {
    each((name, value) => {
      if (names.has(name)) headers[name] = headers[name] === '' ? value : `${headers[name]}, ${value}`;
    });
  }
  return headers;
}
