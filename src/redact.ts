/**
 * What a URL carries besides where it points: the password of its userinfo, the values of its
 * query parameters (pg and ioredis read `?password=`) and its fragment. A URL this service
 * prints shows none of them; a message that may echo a URL is scrubbed of every form of them.
 */
const HIDDEN = '***';

/**
 * `scheme://user:pw@host/db?password=x&sslmode=y` → `scheme://user:***@host/db?password=***&sslmode=***`:
 * the parameters keep their names, never their values. Anything unparsable is hidden whole.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '<unparsable url>';
  }
  const query = url.search.slice(1);
  const fragment = url.hash;
  if (url.password) url.password = HIDDEN;
  url.search = '';
  url.hash = '';
  const names = query.split('&').map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=${HIDDEN}` : pair));
  return `${url.href}${query ? `?${names.join('&')}` : ''}${fragment ? `#${HIDDEN}` : ''}`;
}

/**
 * Every form in which the secrets of a URL can show up in a message: each value as written, as
 * the URL parser normalises it (it percent-encodes some characters written raw), and decoded.
 */
export function urlSecrets(raw: string): string[] {
  let normalised: string;
  try {
    normalised = new URL(raw).href;
  } catch {
    return [];
  }
  const written = [...carriedValues(raw), ...carriedValues(normalised)];
  return [...new Set(written.flatMap((value) => [value, ...decodedForms(value)]))].filter((form) => form !== '');
}

/** The password, the query values and the fragment as they stand in `url`, split where the WHATWG URL parser splits. */
function carriedValues(url: string): string[] {
  const rest = url.slice(url.indexOf('://') + 3);
  const authority = rest.split(/[/?#]/, 1)[0]!;
  const userinfo = authority.slice(0, Math.max(0, authority.lastIndexOf('@')));
  const password = userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : '';
  const [beforeFragment, ...fragment] = rest.split('#');
  const query = beforeFragment!.includes('?') ? beforeFragment!.slice(beforeFragment!.indexOf('?') + 1) : '';
  const values = query.split('&').map((pair) => (pair.includes('=') ? pair.slice(pair.indexOf('=') + 1) : ''));
  return [password, ...values, fragment.join('#')];
}

/** Decoded, and encoded again as encodeURIComponent would; query parsers (pg, ioredis) also read `+` as a space. */
function decodedForms(value: string): string[] {
  const forms: string[] = [];
  for (const candidate of [value, value.replace(/\+/g, ' ')]) {
    try {
      const decoded = decodeURIComponent(candidate);
      forms.push(decoded, encodeURIComponent(decoded));
    } catch {
      // Not valid percent-encoding (a lone `%`): the value stands as written only.
    }
  }
  return forms;
}

/**
 * Replaces every occurrence of each secret in a message (drivers echo connection strings in
 * errors), longest first so a secret containing another is hidden whole. Where a secret begins
 * or ends with a letter or digit, it is replaced only where it is not part of a longer word:
 * a query value such as `0` or `require` must not mangle every number and word of a message.
 */
export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let scrubbed = message;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) scrubbed = scrubbed.replace(standalone(secret), HIDDEN);
  }
  return scrubbed;
}

const WORD_CHARACTER = /[A-Za-z0-9]/;

function standalone(secret: string): RegExp {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const before = WORD_CHARACTER.test(secret[0]!) ? '(?<![A-Za-z0-9])' : '';
  const after = WORD_CHARACTER.test(secret.at(-1)!) ? '(?![A-Za-z0-9])' : '';
  return new RegExp(`${before}${escaped}${after}`, 'g');
}
