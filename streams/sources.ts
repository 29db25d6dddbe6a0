import type { Newable } from 'inversify';
import type { MetricSource } from './source';

/** One row of the source table. */
export interface SourceDefinition {
  /** The name in `SOURCES`, the `source` label of `collector_up` and the `/stream` subscription. */
  readonly name: string;
  /** What the source reports, in one line: the README's table of sources is checked against it. */
  readonly summary: string;
  /** The source's class, required only when the source is enabled, so a disabled source loads no client library. */
  readonly load: () => Newable<MetricSource>;
  /**
   * The source reports a target every replica shares (not its own host or process): with
   * `CLUSTER_ELECTION`, only the elected replica collects and shows it.
   */
  readonly shared?: true;
}

/**
 * Every source the service knows. Adding one is its file in `streams/` and one line here: the
 * container binds the enabled rows, `SOURCES` is validated against the names, and a test holds
 * the README's table to the summaries.
 */
export const SOURCE_TABLE = [
  { name: 'system', summary: 'host CPU, memory, load, filesystems, disk I/O and network', load: () => (require('./system') as typeof import('./system')).SystemSource },
  { name: 'app', summary: "this service's own version, uptime and start time", load: () => (require('./app') as typeof import('./app')).AppSource },
  { name: 'database', summary: 'PostgreSQL connections, transactions and table rows, and the series of `DATABASE_QUERIES_FILE`', load: () => (require('./database') as typeof import('./database')).DatabaseSource, shared: true },
  { name: 'iotflow', summary: 'IoTFlow devices (total, online, by status) and users, from its tables', load: () => (require('./iotflow') as typeof import('./iotflow')).IotflowSource, shared: true },
  { name: 'redis', summary: 'Redis INFO: memory, clients, keys, hits and misses, evictions', load: () => (require('./redis') as typeof import('./redis')).RedisSource, shared: true },
  { name: 'mqtt', summary: "the broker's `$SYS` statistics and the IoTFlow telemetry count", load: () => (require('./mqtt') as typeof import('./mqtt')).MqttSource },
] as const satisfies readonly SourceDefinition[];

export type SourceName = (typeof SOURCE_TABLE)[number]['name'];

/** The sources whose whole output describes a shared target. */
export const SHARED_SOURCE_NAMES: ReadonlySet<string> = new Set(SOURCE_TABLE.filter((definition: SourceDefinition) => definition.shared).map((definition) => definition.name));

export const SOURCE_NAMES: readonly SourceName[] = SOURCE_TABLE.map((definition) => definition.name);
