import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type SettingDeclaration } from './settings';

/**
 * PEM files for the TLS connection to a source, read at start: REDIS_TLS_{CA,CERT,KEY}_FILE
 * (rediss:// only) and MQTT_TLS_{CA,CERT,KEY}_FILE (mqtts:// or wss:// only).
 * Server verification always stays on: `ca` only replaces the trusted authorities.
 */
export interface SourceTls {
  /** Authorities that sign the server's certificate; absent: Node's defaults. */
  readonly ca?: Buffer;
  /** Client certificate and its key, for a server that asks for one; both or neither. */
  readonly cert?: Buffer;
  /** Secret: never logged, never echoed in a ConfigError (which names the path only). */
  readonly key?: Buffer;
}

type Read = (name: string) => string | undefined;

/** The file's content once it proved to be what `parse` expects; else a ConfigError naming the variable and the path. */
function pemFile(name: string, path: string, what: string, parse: (text: Buffer) => unknown): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    throw new ConfigError(name, `a readable PEM ${what} file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
  }
  try {
    parse(text);
  } catch {
    throw new ConfigError(name, `a readable PEM ${what} file (its content is not one)`, path);
  }
  return text;
}

/** A certificate and its key, both named or neither; the key must be the certificate's. */
function certificateAndKey(certName: string, keyName: string, read: Read): { cert: Buffer; key: Buffer } | undefined {
  const certFile = read(certName);
  const keyFile = read(keyName);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new ConfigError(certName, `a PEM certificate file, since ${keyName} is set`, '');
  if (keyFile === undefined) throw new ConfigError(keyName, `a PEM private key file, since ${certName} is set`, '');
  const cert = pemFile(certName, certFile, 'certificate', (text) => new X509Certificate(text));
  const key = pemFile(keyName, keyFile, 'private key (unencrypted)', (text) => createPrivateKey(text));
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new ConfigError(keyName, `the private key of the ${certName} certificate`, keyFile);
  return { cert, key };
}

/** `TLS_CERT_FILE` / `TLS_KEY_FILE`: the exporter's own HTTPS; the paths, checked. */
export function serverTlsFiles(read: Read): { readonly certFile: string; readonly keyFile: string } | undefined {
  if (!certificateAndKey('TLS_CERT_FILE', 'TLS_KEY_FILE', read)) return undefined;
  return { certFile: read('TLS_CERT_FILE')!, keyFile: read('TLS_KEY_FILE')! };
}

/**
 * `<prefix>_TLS_CA_FILE`, `<prefix>_TLS_CERT_FILE`, `<prefix>_TLS_KEY_FILE` for the source whose URL
 * is `url` (named `urlName`). Set with a URL whose scheme is not one of `tlsSchemes`, they would be
 * ignored: that stops the start instead, naming the file's variable.
 */
export function sourceTls(prefix: string, urlName: string, url: string, tlsSchemes: readonly string[], read: Read): SourceTls | undefined {
  const caName = `${prefix}_TLS_CA_FILE`;
  const names = [caName, `${prefix}_TLS_CERT_FILE`, `${prefix}_TLS_KEY_FILE`];
  const given = names.find((name) => read(name) !== undefined);
  if (given === undefined) return undefined;
  const scheme = new URL(url).protocol.replace(/:$/, '');
  if (!tlsSchemes.includes(scheme)) {
    const schemes = tlsSchemes.map((s) => `${s}://`).join(' or ');
    throw new ConfigError(given, `a file for a TLS connection, used only with a ${schemes} ${urlName} (${urlName} is ${scheme}://)`, read(given)!);
  }
  const caFile = read(caName);
  const ca = caFile === undefined ? undefined : pemFile(caName, caFile, 'CA certificate', (text) => new X509Certificate(text));
  const client = certificateAndKey(names[1]!, names[2]!, read);
  return { ...(ca ? { ca } : {}), ...client };
}

/** The declarations of `<prefix>_TLS_CA_FILE`, `<prefix>_TLS_CERT_FILE` and `<prefix>_TLS_KEY_FILE`, for `what` (the URL they serve). */
export function sourceTlsSettings(prefix: string, what: string): SettingDeclaration[] {
  return [
    { name: `${prefix}_TLS_CA_FILE`, meaning: `PEM CA certificate that signs the server's certificate, for ${what} (instead of Node's trusted CAs)` },
    { name: `${prefix}_TLS_CERT_FILE`, meaning: `PEM client certificate, for ${what} whose server asks for one (with ${prefix}_TLS_KEY_FILE)` },
    { name: `${prefix}_TLS_KEY_FILE`, meaning: `PEM private key (unencrypted) of ${prefix}_TLS_CERT_FILE` },
  ];
}
