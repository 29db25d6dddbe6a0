import type { HttpReply, HttpRequest } from './route-table';

/**
 * Longest path plus query string a route is handed. uWS itself takes URLs of 100 kB and more;
 * no route here needs more than a few hundred bytes.
 */
export const MAX_URL_BYTES = 8192;

/** A 414 for a request whose URL is past MAX_URL_BYTES, else undefined. */
export function urlTooLong(request: HttpRequest): HttpReply | undefined {
  if (request.path.length + request.query.length <= MAX_URL_BYTES) return undefined;
  return { status: 414, headers: { 'Content-Type': 'text/plain' }, body: `URL longer than ${MAX_URL_BYTES} bytes\n` };
}
