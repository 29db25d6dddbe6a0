/**
 * Which web pages may open /stream. Browsers apply no CORS to WebSockets: any page a user opens
 * may connect, and its `Origin` header is the only sign of who asked. A page is let in when its
 * origin is the exporter's own (the scheme the server speaks, the host:port the request was sent
 * to) or one listed in STREAM_ALLOWED_ORIGINS; a client that sends no `Origin` is no browser page
 * (Prometheus, scripts) and is not judged here.
 */

/** An origin as browsers serialize it: `scheme://host[:port]`, nothing after the authority. */
const ORIGIN_SHAPE = /^https?:\/\/[^/?#@\s]+$/i;

/** The serialized origin of `text` (lower-cased host, default port left out), or undefined if it is not an http(s) origin. */
export function normalizeOrigin(text: string): string | undefined {
  if (!ORIGIN_SHAPE.test(text)) return undefined;
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** STREAM_ALLOWED_ORIGINS (comma-separated) → the origins, normalized, or the first malformed entry. */
export function parseAllowedOrigins(list: readonly string[]): readonly string[] | { invalid: string } {
  const origins: string[] = [];
  for (const entry of list) {
    const origin = normalizeOrigin(entry);
    if (origin === undefined) return { invalid: entry };
    origins.push(origin);
  }
  return origins;
}

export interface UpgradeOrigin {
  /** The `Origin` header, '' when absent. */
  readonly origin: string;
  /** The `Host` header, '' when absent. */
  readonly host: string;
  /** Whether the server speaks TLS: the scheme of its own origin. */
  readonly tls: boolean;
}

/** Why an upgrade's origin is refused, or undefined to let it through. */
export function originRefusal({ origin, host, tls }: UpgradeOrigin, allowed: readonly string[]): string | undefined {
  if (origin === '') return undefined;
  const own = host === '' ? undefined : normalizeOrigin(`${tls ? 'https' : 'http'}://${host}`);
  const asked = normalizeOrigin(origin);
  if (asked !== undefined && (asked === own || allowed.includes(asked))) return undefined;
  const shown = JSON.stringify(origin.slice(0, 200));
  return `origin ${shown} may not read this stream: it is neither the exporter's own (${own ?? 'no valid Host header'}) nor in STREAM_ALLOWED_ORIGINS`;
}
