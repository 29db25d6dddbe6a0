/** `scheme://user:secret@host/db` → `scheme://user:***@host/db`; anything unparsable is hidden whole. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparsable url>';
  }
}

/** Replaces every occurrence of each secret in a message (drivers echo connection strings in errors). */
export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let scrubbed = message;
  for (const secret of secrets) {
    if (secret.length > 0) scrubbed = scrubbed.split(secret).join('***');
  }
  return scrubbed;
}

/** The password of a URL, decoded, or '' (for scrubSecrets). */
export function urlPassword(raw: string): string {
  try {
    return decodeURIComponent(new URL(raw).password);
  } catch {
    return '';
  }
}

/** Every form in which a URL's password can show up in a message: as written, and decoded. */
export function urlSecrets(raw: string): string[] {
  let encoded = '';
  try {
    encoded = new URL(raw).password;
  } catch {
    // No URL, no password.
  }
  return [...new Set([encoded, urlPassword(raw)])].filter((secret) => secret !== '');
}
