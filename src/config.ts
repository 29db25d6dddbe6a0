import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Cidr, parseCidr } from './http/cidr';
import { LOG_LEVELS, type LogLevel } from './logger';
import { NamePatterns } from './name-patterns';
import { SOURCE_NAMES, type SourceName } from '../streams/sources';


export interface Config {
  readonly port: number;
  readonly host: string;
  readonly collectionIntervalSeconds: number;
  /** Per-collection timeout: half the interval, at most 10 s, unless set. */
  readonly collectionTimeoutSeconds: number;
  readonly sources: ReadonlySet<SourceName>;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly mqttUrl: string;
  readonly logLevel: LogLevel;
  /** Tables counted by `database_table_rows`; empty means every user table (at most 500). */
  readonly dbTables: readonly string[];
  readonly dbExactCountMaxRows: number;
  /** Rows (by the catalog's estimates) the exact counts of one collection may scan in all. */
  readonly dbExactCountBudgetRows: number;
  /** A postgres_exporter queries file (`--extend.query-path`) whose series the database source adds; undefined: none. */
  readonly databaseQueriesFile: string | undefined;
  /** Series one namespace of the queries file may make in a collection; the rest are dropped and counted. */
  readonly databaseQueriesMaxSeries: number;
  readonly deviceOnlineWindowSeconds: number;
  readonly mqttTelemetryTopic: string;
  /** Shared-subscription group for the telemetry filter (`$share/<group>/<filter>`); undefined: a plain subscription. */
  readonly mqttShareGroup: string | undefined;
  /** Replicas elect one holder (PostgreSQL advisory lock) that alone collects the shared sources. */
  readonly clusterElection: boolean;
  /** The broker's $SYS publish period assumed until one is observed (Mosquitto's sys_interval). */
  readonly mqttSysIntervalSeconds: number;
  /** Filesystem types left out of the disk metrics (`*` and `?` patterns). */
  readonly diskFsTypesExcluded: NamePatterns;
  /** Network interfaces left out of the network metrics (`*` and `?` patterns). */
  readonly networkInterfacesExcluded: NamePatterns;
  /** Host collectors the `system` source runs (node_exporter's --no-collector.X turns one off). */
  readonly systemCollectors: ReadonlySet<SystemCollectorName>;
  /** Where procfs is read (a host's /proc mounted into a container); without a usable one, systeminformation. */
  readonly systemProcRoot: string;
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
}

/** A configuration value that cannot be used: names the variable and what it expects. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    received: string,
  ) {
    super(`${variable}=${JSON.stringify(received)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Loopback and the private ranges: closed to the public internet out of the box. */
const DEFAULT_METRICS_ALLOWLIST = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7';

const DEFAULT_DISK_FSTYPES_EXCLUDED =
  'tmpfs,devtmpfs,overlay,squashfs,proc,sysfs,cgroup,cgroup2,devpts,mqueue,autofs,' +
  'debugfs,tracefs,securityfs,pstore,bpf,configfs,fusectl,hugetlbfs,ramfs,nsfs,binfmt_misc,rpc_pipefs,efivarfs,fuse.lxcfs';

/** Container hosts create and remove these interfaces all day: each would leave a trail of series. */
const DEFAULT_NETWORK_INTERFACES_EXCLUDED = 'lo,veth*,br-*,docker*,cali*';

export const SYSTEM_COLLECTOR_NAMES = ['cpu', 'load', 'memory', 'filesystems', 'diskstats', 'netdev', 'info'] as const;
export type SystemCollectorName = (typeof SYSTEM_COLLECTOR_NAMES)[number];

/** Reads and validates the environment. Throws ConfigError on the first bad value. */
export function loadConfig(env: Env): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
    }
    return value;
  };

  const seconds = (name: string, fallback: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value > 0) || value > max) throw new ConfigError(name, `a positive number of seconds, at most ${max}`, raw);
    return value;
  };

  const rate = (name: string, fallback: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value <= 100_000)) throw new ConfigError(name, 'requests per second from 0 (off) to 100000', raw);
    return value;
  };

  const url = (name: string, fallback: string, schemes: readonly string[]): string => {
    const raw = read(name) ?? fallback;
    const expected = `a URL with scheme ${schemes.map((s) => `${s}://`).join(' or ')}`;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, expected, '<not a URL>');
    }
    // The message shows the scheme only: the rest of a URL may hold a password.
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) throw new ConfigError(name, expected, `${parsed.protocol}//…`);
    if (!parsed.hostname) throw new ConfigError(name, `${expected} and a host`, `${parsed.protocol}//…`);
    return raw;
  };

  const list = (name: string, fallback: string): string[] =>
    (read(name) ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');

  const cidrs = (name: string, fallback: string): Cidr[] =>
    list(name, fallback).map((item) => {
      const cidr = parseCidr(item);
      if ('error' in cidr) throw new ConfigError(name, `comma-separated IPv4/IPv6 addresses or CIDRs (${cidr.error})`, read(name) ?? '');
      return cidr;
    });

  // A secret's value is never echoed: the message says only what is wrong with it.
  const secret = (name: string, pattern: RegExp, expected: string): string | undefined => {
    const raw = read(name);
    if (raw !== undefined && !pattern.test(raw)) throw new ConfigError(name, expected, '<hidden>');
    return raw;
  };
  const metricsToken = secret('METRICS_TOKEN', /^[\x21-\x7e]+$/, 'a token of printable ASCII without spaces');
  const metricsBasicAuth = secret('METRICS_BASIC_AUTH', /^[^:\s]+:\S+$/, 'user:password, neither empty, without spaces');

  const sourcesRaw = list('SOURCES', SOURCE_NAMES.join(','));
  for (const name of sourcesRaw) {
    if (!(SOURCE_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError('SOURCES', `a comma-separated list of ${SOURCE_NAMES.join(', ')}`, read('SOURCES') ?? '');
    }
  }

  const namePatterns = (name: string, fallback: string): NamePatterns => {
    const patterns = NamePatterns.parse(list(name, fallback));
    if ('invalid' in patterns) {
      throw new ConfigError(name, `comma-separated names or patterns with only * and ? as wildcards (${JSON.stringify(patterns.invalid)} uses others)`, read(name) ?? '');
    }
    return patterns;
  };

  const absolutePath = (name: string, fallback: string): string => {
    const raw = read(name) ?? fallback;
    if (!raw.startsWith('/')) throw new ConfigError(name, 'an absolute path', raw);
    return raw;
  };

  const systemCollectors = list('SYSTEM_COLLECTORS', SYSTEM_COLLECTOR_NAMES.join(','));
  const unknownCollector = systemCollectors.find((name) => !(SYSTEM_COLLECTOR_NAMES as readonly string[]).includes(name));
  if (unknownCollector !== undefined) {
    throw new ConfigError('SYSTEM_COLLECTORS', `a comma-separated list of ${SYSTEM_COLLECTOR_NAMES.join(', ')} (${JSON.stringify(unknownCollector)} is none of them)`, read('SYSTEM_COLLECTORS') ?? '');
  }

  const logLevel = read('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', LOG_LEVELS.join(', '), logLevel);
  }

  const collectionIntervalSeconds = seconds('COLLECTION_INTERVAL_SECONDS', 15, 3600);
  const collectionTimeoutSeconds = seconds(
    'COLLECTION_TIMEOUT_SECONDS',
    Math.min(collectionIntervalSeconds / 2, 10),
    collectionIntervalSeconds,
  );

  const mqttTelemetryTopic = read('MQTT_TELEMETRY_TOPIC') ?? 'iotflow/devices/+/telemetry/#';
  if (!isValidTopicFilter(mqttTelemetryTopic)) {
    throw new ConfigError('MQTT_TELEMETRY_TOPIC', 'an MQTT topic filter (+ and # only as whole levels, # last)', mqttTelemetryTopic);
  }

  // Unset: the default group. Set but empty: sharing off (every instance gets every message).
  const mqttShareGroup = env['MQTT_SHARE_GROUP'] === undefined ? 'iotflow-metrics' : read('MQTT_SHARE_GROUP');
  if (mqttShareGroup !== undefined && /[/+#]/.test(mqttShareGroup)) {
    throw new ConfigError('MQTT_SHARE_GROUP', 'a shared-subscription group name without /, + or # (empty: no sharing)', mqttShareGroup);
  }

  const clusterElection = read('CLUSTER_ELECTION') ?? 'false';
  if (clusterElection !== 'true' && clusterElection !== 'false') throw new ConfigError('CLUSTER_ELECTION', 'true or false', clusterElection);

  const streamMaxClients = integer('STREAM_MAX_CLIENTS', 1000, 1, 1_000_000);
  const streamMaxClientsPerAddress = integer('STREAM_MAX_CLIENTS_PER_ADDRESS', Math.min(100, streamMaxClients), 1, 1_000_000);
  if (streamMaxClientsPerAddress > streamMaxClients) {
    throw new ConfigError('STREAM_MAX_CLIENTS_PER_ADDRESS', `an integer at most STREAM_MAX_CLIENTS (${streamMaxClients})`, String(streamMaxClientsPerAddress));
  }

  return {
    port: integer('PORT', 5000, 0, 65535),
    host: read('HOST') ?? '0.0.0.0',
    collectionIntervalSeconds,
    collectionTimeoutSeconds,
    sources: new Set(sourcesRaw as SourceName[]),
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/postgres', ['postgres', 'postgresql']),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis', 'rediss']),
    mqttUrl: url('MQTT_URL', 'mqtt://127.0.0.1:1883', ['mqtt', 'mqtts', 'tcp', 'ws', 'wss']),
    logLevel: logLevel as LogLevel,
    dbTables: list('DB_TABLES', ''),
    dbExactCountMaxRows: integer('DB_EXACT_COUNT_MAX_ROWS', 100_000, 0, Number.MAX_SAFE_INTEGER),
    dbExactCountBudgetRows: integer('DB_EXACT_COUNT_BUDGET_ROWS', 200_000, 0, Number.MAX_SAFE_INTEGER),
    databaseQueriesFile: read('DATABASE_QUERIES_FILE'),
    databaseQueriesMaxSeries: integer('DATABASE_QUERIES_MAX_SERIES', 1000, 1, 1_000_000),
    deviceOnlineWindowSeconds: integer('DEVICE_ONLINE_WINDOW_SECONDS', 300, 1, 31 * 24 * 3600),
    mqttTelemetryTopic,
    mqttShareGroup,
    clusterElection: clusterElection === 'true',
    mqttSysIntervalSeconds: seconds('MQTT_SYS_INTERVAL_SECONDS', 10, 3600),
    diskFsTypesExcluded: namePatterns('DISK_FSTYPES_EXCLUDED', DEFAULT_DISK_FSTYPES_EXCLUDED),
    networkInterfacesExcluded: namePatterns('NETWORK_INTERFACES_EXCLUDED', DEFAULT_NETWORK_INTERFACES_EXCLUDED),
    systemCollectors: new Set(systemCollectors as SystemCollectorName[]),
    systemProcRoot: absolutePath('SYSTEM_PROC_ROOT', '/proc'),
    metricsAllowlist: cidrs('METRICS_ALLOWLIST', DEFAULT_METRICS_ALLOWLIST),
    trustedProxies: cidrs('TRUSTED_PROXIES', ''),
    metricsToken,
    metricsBasicAuth,
    metricsRateLimit: rate('METRICS_RATE_LIMIT', 10),
    tls: tlsFiles(read('TLS_CERT_FILE'), read('TLS_KEY_FILE')),
    streamMaxBufferBytes: integer('STREAM_MAX_BUFFER_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    streamMaxClients,
    streamMaxClientsPerAddress,
  };
}

function isValidTopicFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every(
    (level, index) =>
      (level === '#' ? index === levels.length - 1 : true) && (level.length <= 1 || !/[+#]/.test(level)),
  );
}

/** Both files or neither; each must be a readable PEM file, and the key must be the certificate's. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined): Config['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new ConfigError('TLS_CERT_FILE', 'a PEM certificate file, since TLS_KEY_FILE is set', '');
  if (keyFile === undefined) throw new ConfigError('TLS_KEY_FILE', 'a PEM private key file, since TLS_CERT_FILE is set', '');
  const pem = <T>(name: string, path: string, what: string, parse: (text: Buffer) => T): T => {
    let text: Buffer;
    try {
      text = readFileSync(path);
    } catch (error) {
      throw new ConfigError(name, `a readable PEM ${what} file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
    }
    try {
      return parse(text);
    } catch {
      throw new ConfigError(name, `a readable PEM ${what} file (its content is not one)`, path);
    }
  };
  const certificate = pem('TLS_CERT_FILE', certFile, 'certificate', (text) => new X509Certificate(text));
  const key = pem('TLS_KEY_FILE', keyFile, 'private key', (text) => createPrivateKey(text));
  if (!certificate.checkPrivateKey(key)) throw new ConfigError('TLS_KEY_FILE', 'the private key of the TLS_CERT_FILE certificate', keyFile);
  return { certFile, keyFile };
}
