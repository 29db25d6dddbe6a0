/**
 * The application every bench server serves: 50 templated REST routes of an IoT backend (ten
 * resources × list, read, create, update, delete). The overhead suite loads one of them on every
 * server; the scrape suite spreads traffic over all of them and over STATUSES, so the registry
 * carries the HTTP series of a busy application.
 */
export type AppMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface AppRoute {
  readonly method: AppMethod;
  /** Route template with `:id`, the same syntax in uWS, fastify and express. */
  readonly template: string;
}

const RESOURCES = ['devices', 'users', 'sensors', 'readings', 'alerts', 'groups', 'firmware', 'gateways', 'rules', 'dashboards'];

export const APP_ROUTES: readonly AppRoute[] = RESOURCES.flatMap((resource): AppRoute[] => [
  { method: 'GET', template: `/api/v1/${resource}` },
  { method: 'GET', template: `/api/v1/${resource}/:id` },
  { method: 'POST', template: `/api/v1/${resource}` },
  { method: 'PUT', template: `/api/v1/${resource}/:id` },
  { method: 'DELETE', template: `/api/v1/${resource}/:id` },
]);

/** The route the overhead suite loads, on every server. */
export const MEASURED_PATH = '/api/v1/devices/42';

/**
 * Statuses the scrape suite's traffic asks for (`?status=404`): each one a series per route. No
 * 204: its reply must have no body, and every server here answers with one.
 */
export const STATUSES = [200, 400, 401, 403, 404, 500, 503] as const;

/** The status a request asks for with `status=<code>` in its query string; 200 otherwise. */
export function requestedStatus(query: string): number {
  const match = /(?:^|&)status=(\d{3})(?:&|$)/.exec(query);
  return match ? Number(match[1]) : 200;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** The body every server answers with: small, as most API replies are, and built per request. */
export function replyBody(id: string | undefined): string {
  return JSON.stringify({ id: id ?? null, status: 'online', firmware: '1.4.2' });
}

/** `METHOD /path?status=N` lines for every route and status: the scrape suite's traffic, for wrk. */
export function trafficLines(): string[] {
  return APP_ROUTES.flatMap(({ method, template }) =>
    STATUSES.map((status) => `${method} ${template.replace(':id', String(100 + (status % 97)))}?status=${status}`),
  );
}
