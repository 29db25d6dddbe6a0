import { injectable } from 'inversify';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

/** What a handler sees of a request: plain values copied out of uWS before the handler runs. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Raw query string without the leading `?`. */
  readonly query: string;
  /** Route parameters by name (`/devices/:id` → `{ id }`). */
  readonly params: Readonly<Record<string, string>>;
  /** The headers the route declared, lower-cased names; '' when absent. */
  readonly headers: Readonly<Record<string, string>>;
  /** Peer address as text (IPv4, or IPv6 in full form); '' unless the route declares `readsPeerAddress`. */
  readonly remoteAddress: string;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /**
   * Called once the server holds no more of `body`: all of it written to the socket or to uWS's
   * own buffer, or the request aborted. A handler that reuses its body buffers takes them back here.
   */
  readonly released?: () => void;
}

export type RouteHandler = (request: HttpRequest) => HttpReply | Promise<HttpReply>;

export interface Route {
  readonly method: HttpMethod;
  /** uWS pattern (`/api/v1/devices/:id`), also the `endpoint` label of its requests. */
  readonly path: string;
  readonly handler: RouteHandler;
  /** Request headers the handler reads; only these are copied out of uWS. */
  readonly headers?: readonly string[];
  /** The handler reads `remoteAddress`; otherwise it is '' (copying it out of uWS costs ~3-5 µs a request). */
  readonly readsPeerAddress?: boolean;
}

/**
 * The routes the HTTP server serves. The service adds /metrics and /health; an application
 * embedding the library adds its own before the server listens, and gets them counted too.
 */
@injectable()
export class RouteTable {
  private readonly table: Route[] = [];

  add(route: Route): this {
    if (this.table.some((existing) => existing.method === route.method && existing.path === route.path)) {
      throw new Error(`route ${route.method} ${route.path} is already registered`);
    }
    this.table.push(route);
    return this;
  }

  routes(): readonly Route[] {
    return this.table;
  }
}

/** Parameter names of a uWS pattern, in order: `/a/:id/b/:name` → ['id', 'name']. */
export function parameterNames(path: string): string[] {
  return path
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1));
}

/**
 * The values of a uWS pattern's `:name` segments in a request path, in order, or undefined when the
 * path does not match: the same number of segments, each literal segment equal and each `:name`
 * segment not empty. Query strings are not part of a path.
 */
export function patternParameters(pattern: string): (path: string) => string[] | undefined {
  const segments = pattern.split('/').map((segment) => (segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const expression = new RegExp(`^${segments.join('/')}$`);
  return (path) => expression.exec(path)?.slice(1);
}

/** A test of whether a request path matches a uWS pattern (see patternParameters). */
export function patternMatcher(pattern: string): (path: string) => boolean {
  const parameters = patternParameters(pattern);
  return (path) => parameters(path) !== undefined;
}

export function json(status: number, body: unknown): HttpReply {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}
