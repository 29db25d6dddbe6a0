import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BEARER_SUBPROTOCOL_PREFIX } from '../http/access-control';
import type { HttpReply, Route } from '../http/route-table';
import { STREAM_SUBPROTOCOL } from '../live/stream-route';
import { PAGE_STYLE } from './page-style';

export const LIVE_PAGE_PATH = '/';

/**
 * Same origin only, no inline script or style, no framing. `connect-src 'self'` covers the
 * page's WebSocket (ws: and wss: of its own host). The icon is an empty data: URL, so browsers
 * ask for no /favicon.ico.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const COMMON_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

/** An asset's URL carries its content's digest, so it can be cached for good: a changed file gets a new URL. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

interface Asset {
  readonly path: string;
  readonly reply: HttpReply;
}

function asset(name: string, extension: string, contentType: string, content: string | Buffer): Asset {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return {
    path: `/assets/${name}.${digest}.${extension}`,
    reply: { status: 200, headers: { 'Content-Type': contentType, 'Cache-Control': IMMUTABLE, ...COMMON_HEADERS }, body },
  };
}

/** uPlot's browser build and stylesheet, served by the exporter itself: the page works on a closed network. */
function uplotFile(file: string): Buffer {
  return readFileSync(require.resolve(`uplot/dist/${file}`));
}

/** Where `npm run build` puts the page's script, compiled from src/page/browser/ (its own tsconfig.json: DOM, no Node). */
const PAGE_SCRIPT_FILE = path.join('dist', 'page', 'live-page.js');

/** The compiled page script, found from src/page/ (ts-jest) or dist/src/page/ (built): the package root is two or three levels up. */
function pageScript(): Buffer {
  const candidates = [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')].map((root) => path.join(root, PAGE_SCRIPT_FILE));
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`the live page's script ${PAGE_SCRIPT_FILE} is missing: build it with npm run build`);
  return readFileSync(found);
}

/** Attribute-safe: the values are the server's own constants. */
const attribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

function pageHtml(styles: readonly Asset[], scripts: readonly Asset[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iotflow-metrics · live</title>
<link rel="icon" href="data:,">
${styles.map(({ path }) => `<link rel="stylesheet" href="${path}">`).join('\n')}
${scripts.map(({ path }) => `<script src="${path}" defer></script>`).join('\n')}
</head>
<body data-stream-subprotocol="${attribute(STREAM_SUBPROTOCOL)}" data-bearer-prefix="${attribute(BEARER_SUBPROTOCOL_PREFIX)}">
<header>
<h1>iotflow-metrics</h1>
<span id="connection" class="connection" data-state="connecting">connecting</span>
<span id="problems" class="problems" hidden></span>
</header>
<form id="auth" class="auth" hidden>
<label for="token">This exporter asks for a token (METRICS_TOKEN).</label>
<input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="token">
<button type="submit">Connect</button>
<p id="auth-error" class="auth-error" role="alert"></p>
</form>
<main id="sources" class="sources"></main>
<footer>Live from <code>/stream</code>, one update per collection · <a href="/metrics">/metrics</a> · <a href="/health">/health</a></footer>
</body>
</html>
`;
}

/**
 * GET / (the live page) and its assets, built once at start. The page is static: what it shows
 * comes from /health (the sources) and /stream (their collections, the exporter's request totals
 * with the `app` source's).
 */
export function livePageRoutes(): Route[] {
  const styles = [asset('uPlot', 'min.css', 'text/css; charset=utf-8', uplotFile('uPlot.min.css')), asset('page', 'css', 'text/css; charset=utf-8', PAGE_STYLE)];
  const scripts = [asset('uPlot', 'iife.min.js', 'text/javascript; charset=utf-8', uplotFile('uPlot.iife.min.js')), asset('page', 'js', 'text/javascript; charset=utf-8', pageScript())];
  const page: HttpReply = {
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...COMMON_HEADERS },
    body: Buffer.from(pageHtml(styles, scripts)),
  };
  return [
    { method: 'GET', path: LIVE_PAGE_PATH, handler: () => page },
    ...[...styles, ...scripts].map(({ path, reply }): Route => ({ method: 'GET', path, handler: () => reply })),
  ];
}
