import { createHash, timingSafeEqual } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { TYPES } from '../tokens';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { type Cidr, formatIp, type IpBytes, matchesAny, parseIp } from './cidr';
import { RateLimiter } from './rate-limiter';
import type { HttpReply, HttpRequest } from './route-table';
import type { WebSocketRoute } from './websocket-route';

/** Request headers the checks read; a guarded route declares them so the adapter copies them. */
export const ACCESS_HEADERS = ['x-forwarded-for', 'authorization'] as const;

/**
 * Browsers cannot set Authorization on a WebSocket, so a guarded WebSocket route also takes the
 * bearer token as an offered subprotocol, in the Kubernetes API's form:
 * `base64url.bearer.authorization.k8s.io.<token, base64url without padding>`. It is never selected
 * (echoed in the 101): the route selects a subprotocol of its own offered alongside.
 */
export const SUBPROTOCOL_HEADER = 'sec-websocket-protocol';
export const BEARER_SUBPROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** Addresses whose token buckets are kept at once; about 100 bytes each. */
export const RATE_LIMITER_CAPACITY = 10_000;

const REALM = 'iotflow-metrics';

export interface AccessPolicy {
  readonly allowlist: readonly Cidr[];
  readonly trustedProxies: readonly Cidr[];
  /** Absent: no authentication asked. */
  readonly credentials?: Credentials;
}

/**
 * The client a request comes from. The peer itself unless it is a trusted proxy; then the
 * right-most X-Forwarded-For hop that is not a trusted proxy (the left-most if all are), so a
 * client cannot choose its address by writing the header itself. Undefined when no address can
 * be believed (an unparsable hop in a trusted chain).
 */
export function clientAddress(peer: string, forwardedFor: string, trustedProxies: readonly Cidr[]): IpBytes | undefined {
  const peerAddress = parseIp(peer);
  if (!peerAddress || forwardedFor.trim() === '' || !matchesAny(trustedProxies, peerAddress)) return peerAddress;
  const hops = forwardedFor.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '');
  let client = peerAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseForwardedHop(hops[i]);
    if (!hop) return undefined;
    client = hop;
    if (!matchesAny(trustedProxies, hop)) break;
  }
  return client;
}

/** `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`, as some proxies write a hop. */
function parseForwardedHop(hop: string): IpBytes | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return parseIp(bracketed[1]);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return parseIp(v4WithPort ? v4WithPort[1] : hop);
}

/**
 * METRICS_TOKEN (Bearer) and METRICS_BASIC_AUTH (Basic); when both are set, either is accepted.
 * Compared as SHA-256 digests with timingSafeEqual: equal lengths whatever was sent, so neither
 * the content nor the length of a secret leaks through response timing.
 */
export class Credentials {
  private readonly token?: Buffer;
  private readonly basic?: Buffer;
  readonly challenge: string;

  /** `challenged: 'basic'` asks for Basic only: browsers prompt for it only when it comes first, or alone. */
  constructor(token: string | undefined, basic: string | undefined, challenged: 'all' | 'basic' = 'all') {
    this.token = token === undefined ? undefined : digest(token);
    this.basic = basic === undefined ? undefined : digest(basic);
    const challenges = [];
    if (token !== undefined && challenged === 'all') challenges.push(`Bearer realm="${REALM}"`);
    if (basic !== undefined) challenges.push(`Basic realm="${REALM}", charset="UTF-8"`);
    this.challenge = challenges.join(', ');
  }

  accepts(authorization: string): boolean {
    const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization);
    if (!match) return false;
    const scheme = match[1].toLowerCase();
    if (scheme === 'bearer' && this.token) return timingSafeEqual(digest(match[2]), this.token);
    if (scheme === 'basic' && this.basic) return timingSafeEqual(digest(Buffer.from(match[2], 'base64').toString('utf8')), this.basic);
    return false;
  }
}

/** The offered subprotocols of a Sec-WebSocket-Protocol header, in order. */
export function offeredSubprotocols(header: string): string[] {
  return header.split(',').map((protocol) => protocol.trim()).filter((protocol) => protocol !== '');
}

/** `Bearer <token>` from a bearer subprotocol offered in `header`, or '' when none is. */
export function subprotocolAuthorization(header: string): string {
  const offered = offeredSubprotocols(header).find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (offered === undefined) return '';
  const encoded = offered.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  // Anything but base64url would decode to something else, which could then match by accident.
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return '';
  return `Bearer ${Buffer.from(encoded, 'base64url').toString('utf8')}`;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Why a request to a guarded route is refused, or undefined to let it through. Checked in this
 * order: the allowlist (403), the rate limit (429; failed logins spend tokens too, which slows
 * guessing), then the credentials (401). `takeToken` spends one token of a client address and
 * returns 0, or the seconds to wait.
 */
export function accessRefusal(policy: AccessPolicy, request: HttpRequest, takeToken: (client: string) => number): HttpReply | undefined {
  const client = clientAddress(request.remoteAddress, request.headers['x-forwarded-for'] ?? '', policy.trustedProxies);
  if (!client) return text(403, 'forbidden: the client address cannot be determined\n');
  const address = formatIp(client);
  if (!matchesAny(policy.allowlist, client)) return text(403, `forbidden: ${address} is not in METRICS_ALLOWLIST\n`);
  const waitSeconds = takeToken(address);
  if (waitSeconds > 0) return text(429, 'too many requests\n', { 'Retry-After': String(waitSeconds) });
  // The subprotocol header is only read on routes that declare it: WebSocket routes (see guardedWebSocket).
  if (policy.credentials) {
    const authorization = request.headers.authorization || subprotocolAuthorization(request.headers[SUBPROTOCOL_HEADER] ?? '');
    if (!policy.credentials.accepts(authorization)) return text(401, 'authentication required\n', { 'WWW-Authenticate': policy.credentials.challenge });
  }
  return undefined;
}

function text(status: number, body: string, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { 'Content-Type': 'text/plain', ...headers }, body };
}

/**
 * What a guarded route serves: `data` (/metrics, /stream) or `page` (the live page and its assets,
 * which hold no data). Both are behind the allowlist and the rate limit. The page asks for
 * credentials only with METRICS_BASIC_AUTH, so the browser prompts once and then sends them with
 * the page's WebSocket too; a token cannot be typed into that prompt, so with METRICS_TOKEN alone
 * the page loads and asks for the token itself.
 */
export type GuardScope = 'data' | 'page';

/** The access checks of /metrics, /stream and the live page, configured once, with the rate limiter's state. */
@injectable()
export class AccessGuard {
  private readonly policies: Readonly<Record<GuardScope, AccessPolicy>>;
  private readonly limiter?: RateLimiter;

  constructor(
    @inject(TYPES.Config) config: Config,
    @inject(TYPES.Clock) private readonly clock: Clock,
  ) {
    const { metricsToken, metricsBasicAuth, metricsRateLimit } = config;
    const addresses = { allowlist: config.metricsAllowlist, trustedProxies: config.trustedProxies };
    this.policies = {
      data: { ...addresses, credentials: metricsToken === undefined && metricsBasicAuth === undefined ? undefined : new Credentials(metricsToken, metricsBasicAuth) },
      page: { ...addresses, credentials: metricsBasicAuth === undefined ? undefined : new Credentials(metricsToken, metricsBasicAuth, 'basic') },
    };
    if (metricsRateLimit > 0) this.limiter = new RateLimiter(metricsRateLimit, 2 * metricsRateLimit, RATE_LIMITER_CAPACITY);
  }

  refusal(request: HttpRequest, scope: GuardScope = 'data'): HttpReply | undefined {
    return accessRefusal(this.policies[scope], request, (client) => this.limiter?.take(client, this.clock.monotonicMs()) ?? 0);
  }
}

/** A route whose handler runs only for requests the guard lets through; refusals are its replies. */
export function guarded<R extends { readonly headers?: readonly string[]; readonly readsPeerAddress?: boolean; readonly handler: (request: HttpRequest) => unknown }>(
  route: R & { readonly handler: (request: HttpRequest) => HttpReply | ReturnType<R['handler']> },
  guard: AccessGuard,
  scope: GuardScope = 'data',
): R {
  return {
    ...route,
    headers: [...(route.headers ?? []), ...ACCESS_HEADERS],
    readsPeerAddress: true,
    handler: (request: HttpRequest) => guard.refusal(request, scope) ?? route.handler(request),
  };
}

/** A guarded WebSocket route, which also takes the token as a subprotocol (see BEARER_SUBPROTOCOL_PREFIX). */
export function guardedWebSocket(route: WebSocketRoute, guard: AccessGuard): WebSocketRoute {
  return guarded<WebSocketRoute>({ ...route, headers: [...(route.headers ?? []), SUBPROTOCOL_HEADER] }, guard);
}
