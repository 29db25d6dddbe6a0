import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cidr } from './http/cidr';
import { HTTP_ENGINE_SETTINGS, type HttpEngineSetting } from './http/http-engines';
import { parseAllowedOrigins } from './live/stream-origin';
import { LOG_LEVELS, type LogLevel } from './logger';
import { ConfigError, type SettingsGroup, type SettingsReader } from './settings';

/** The server's own settings, and the PostgreSQL connection the database sources and the election share. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly collectionIntervalSeconds: number;
  /** Per-collection timeout: half the interval, at most 10 s, unless set. */
  readonly collectionTimeoutSeconds: number;
  /** The enabled sources, by name (each one of the source table's). */
  readonly sources: ReadonlySet<string>;
  readonly databaseUrl: string;
  readonly logLevel: LogLevel;
  /** Replicas elect one holder (PostgreSQL advisory lock) that alone collects the shared sources. */
  readonly clusterElection: boolean;
  /** Who may read /metrics and /stream, judged after X-Forwarded-For resolution. */
  readonly metricsAllowlist: readonly Cidr[];
  /** Peers whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly Cidr[];
  /** Secrets: never logged, never echoed in a ConfigError. */
  readonly metricsToken?: string;
  readonly metricsBasicAuth?: string;
  /** Requests per second per client address to /metrics and /stream; 0 turns the limit off. */
  readonly metricsRateLimit: number;
  /** PEM files, checked readable at load; absent: plain HTTP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Bytes a stream client may have waiting before its messages are dropped. */
  readonly streamMaxBufferBytes: number;
  /** /stream clients at once, in total and from one client address; more are refused with 503. */
  readonly streamMaxClients: number;
  readonly streamMaxClientsPerAddress: number;
  /** Web page origins, besides the exporter's own, whose pages may open /stream (normalized). */
  readonly streamAllowedOrigins: readonly string[];
  /** Which HTTP engine serves: `auto` takes the best that loads (see http-engines.ts). */
  readonly httpEngine: HttpEngineSetting;
  /** Every form in which a secret setting's value could leave the process (see secretsOf), for the scrubber. */
  readonly secrets: readonly string[];
}

/** Loopback and the private ranges: closed to the public internet out of the box. */
const DEFAULT_METRICS_ALLOWLIST = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7';

/** The server's settings: listening, collecting, who may read, TLS, the live stream. */
export const SERVER_SETTINGS = {
  title: 'server',
  settings: [
    { name: 'PORT', default: '5000', meaning: 'HTTP port (0: any free port)' },
    { name: 'HOST', default: '0.0.0.0', meaning: 'listen address' },
    { name: 'HTTP_ENGINE', default: 'auto', meaning: `the HTTP engine: ${HTTP_ENGINE_SETTINGS.join(', ')} (auto: the best that loads)` },
    { name: 'COLLECTION_INTERVAL_SECONDS', default: '15', meaning: 'how often every source is collected (the first collection at start)' },
    { name: 'COLLECTION_TIMEOUT_SECONDS', defaultText: 'half the interval, at most 10', meaning: 'a collection that takes longer fails with "timed out"' },
    { name: 'LOG_LEVEL', default: 'info', meaning: LOG_LEVELS.join(', ') },
    { name: 'CLUSTER_ELECTION', default: 'false', meaning: 'true: replicas elect one holder through PostgreSQL that alone collects the shared sources' },
    { name: 'METRICS_ALLOWLIST', default: DEFAULT_METRICS_ALLOWLIST, meaning: 'comma-separated CIDRs allowed to read /metrics and /stream; others get 403' },
    { name: 'TRUSTED_PROXIES', meaning: 'CIDRs of reverse proxies whose X-Forwarded-For is believed' },
    { name: 'METRICS_TOKEN', meaning: 'require Authorization: Bearer <token> on /metrics and /stream', secret: 'value' },
    { name: 'METRICS_BASIC_AUTH', meaning: 'user:password for HTTP Basic auth on /metrics and /stream', secret: 'value' },
    { name: 'METRICS_RATE_LIMIT', default: '10', meaning: 'requests per second per client address to /metrics and /stream (0: no limit)' },
    { name: 'TLS_CERT_FILE', meaning: 'PEM certificate: serve HTTPS and WSS (with TLS_KEY_FILE)' },
    { name: 'TLS_KEY_FILE', meaning: 'PEM private key of TLS_CERT_FILE' },
    { name: 'STREAM_MAX_BUFFER_BYTES', default: String(256 * 1024), meaning: 'bytes a /stream client may have waiting before its messages are dropped' },
    { name: 'STREAM_MAX_CLIENTS', default: '1000', meaning: '/stream clients at once; more are refused with 503' },
    { name: 'STREAM_MAX_CLIENTS_PER_ADDRESS', defaultText: '100, at most STREAM_MAX_CLIENTS', meaning: '/stream clients at once from one client address' },
    { name: 'STREAM_ALLOWED_ORIGINS', meaning: 'comma-separated web page origins whose pages may open /stream besides the exporter\'s own' },
  ],
  load: (read: SettingsReader) => {
    const collectionIntervalSeconds = read.seconds('COLLECTION_INTERVAL_SECONDS', 3600);
    const streamMaxClients = read.integer('STREAM_MAX_CLIENTS', 1, 1_000_000);
    const streamMaxClientsPerAddress = read.integer('STREAM_MAX_CLIENTS_PER_ADDRESS', 1, 1_000_000, Math.min(100, streamMaxClients));
    if (streamMaxClientsPerAddress > streamMaxClients) {
      throw new ConfigError('STREAM_MAX_CLIENTS_PER_ADDRESS', `an integer at most STREAM_MAX_CLIENTS (${streamMaxClients})`, String(streamMaxClientsPerAddress));
    }
    const streamAllowedOrigins = parseAllowedOrigins(read.list('STREAM_ALLOWED_ORIGINS'));
    if ('invalid' in streamAllowedOrigins) {
      throw new ConfigError(
        'STREAM_ALLOWED_ORIGINS',
        `comma-separated origins such as https://dashboard.example.com:8443 (scheme http or https, host, optional port, no path; ${JSON.stringify(streamAllowedOrigins.invalid)} is not one)`,
        read.text('STREAM_ALLOWED_ORIGINS') ?? '',
      );
    }
    return {
      port: read.integer('PORT', 0, 65535),
      host: read.text('HOST') ?? '',
      httpEngine: read.choice('HTTP_ENGINE', HTTP_ENGINE_SETTINGS),
      collectionIntervalSeconds,
      collectionTimeoutSeconds: read.seconds('COLLECTION_TIMEOUT_SECONDS', collectionIntervalSeconds, Math.min(collectionIntervalSeconds / 2, 10)),
      logLevel: read.choice('LOG_LEVEL', LOG_LEVELS),
      clusterElection: read.boolean('CLUSTER_ELECTION'),
      metricsAllowlist: read.cidrs('METRICS_ALLOWLIST'),
      trustedProxies: read.cidrs('TRUSTED_PROXIES'),
      metricsToken: read.secret('METRICS_TOKEN', /^[\x21-\x7e]+$/, 'a token of printable ASCII without spaces'),
      metricsBasicAuth: read.secret('METRICS_BASIC_AUTH', /^[^:\s]+:\S+$/, 'user:password, neither empty, without spaces'),
      metricsRateLimit: read.rate('METRICS_RATE_LIMIT'),
      tls: tlsFiles(read.given('TLS_CERT_FILE'), read.given('TLS_KEY_FILE')),
      streamMaxBufferBytes: read.integer('STREAM_MAX_BUFFER_BYTES', 1024, 64 * 1024 * 1024),
      streamMaxClients,
      streamMaxClientsPerAddress,
      streamAllowedOrigins,
    };
  },
} satisfies SettingsGroup<Omit<Config, 'sources' | 'databaseUrl' | 'secrets'>>;

/** The PostgreSQL connection: the database and iotflow sources' pool and the election use it. */
export const DATABASE_CONNECTION_SETTINGS = {
  title: 'PostgreSQL connection (database and iotflow sources, election)',
  settings: [
    {
      name: 'DATABASE_URL',
      default: 'postgres://postgres@127.0.0.1:5432/postgres',
      meaning: 'PostgreSQL (postgres:// or postgresql://; sslmode, sslrootcert, sslcert and sslkey parameters for TLS)',
      secret: 'url',
    },
  ],
  load: (read: SettingsReader) => ({ databaseUrl: read.url('DATABASE_URL', ['postgres', 'postgresql']) }),
} satisfies SettingsGroup<Pick<Config, 'databaseUrl'>>;

/** Both files or neither; each must be a readable PEM file, and the key must be the certificate's. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined): Config['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new ConfigError('TLS_CERT_FILE', 'a PEM certificate file, since TLS_KEY_FILE is set', '');
  if (keyFile === undefined) throw new ConfigError('TLS_KEY_FILE', 'a PEM private key file, since TLS_CERT_FILE is set', '');
  const certificate = pemFile('TLS_CERT_FILE', certFile, 'certificate', (text) => new X509Certificate(text));
  const key = pemFile('TLS_KEY_FILE', keyFile, 'private key', (text) => createPrivateKey(text));
  if (!certificate.checkPrivateKey(key)) throw new ConfigError('TLS_KEY_FILE', 'the private key of the TLS_CERT_FILE certificate', keyFile);
  return { certFile, keyFile };
}

/** Reads a PEM file named by `variable` and parses it; a ConfigError naming the variable when either fails. */
export function pemFile<T>(variable: string, path: string, what: string, parse: (text: Buffer) => T): T {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `a readable PEM ${what} file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
  }
  try {
    return parse(text);
  } catch {
    throw new ConfigError(variable, `a readable PEM ${what} file (its content is not one)`, path);
  }
}
