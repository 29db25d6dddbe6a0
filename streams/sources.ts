import type { Newable } from 'inversify';
import type { SettingsGroup } from '../src/settings';
import type { MetricSource } from '../src/source';
import { DATABASE_SETTINGS } from './database/settings';
import { IOTFLOW_SETTINGS } from './iotflow-settings';
import { MQTT_SETTINGS } from './mqtt-settings';
import { REDIS_SETTINGS } from './redis-settings';
import { SYSTEM_SETTINGS } from './system/settings';

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
  /**
   * The variables the source reads, validated at start whether it is enabled or not, with which of
   * them are secret; the container binds the loaded values to the group's token for the source.
   */
  readonly settings?: SettingsGroup<unknown> & { readonly token: symbol };
  /**
   * false: left out of the default `SOURCES` (a source for a service most deployments do not run);
   * naming it in `SOURCES` enables it.
   */
  readonly enabledByDefault?: false;
}

/**
 * Every source the service knows. Adding one is its file in `streams/` (with its settings) and one
 * line here: the container binds the enabled rows and their settings, `SOURCES` is validated against
 * the names, `--help` lists the settings, and tests hold the README's tables to the summaries and
 * the settings.
 */
export const SOURCE_TABLE = [
  { name: 'system', summary: 'host CPU, memory, load, filesystems, disk I/O and network', load: () => (require('./system') as typeof import('./system')).SystemSource, settings: SYSTEM_SETTINGS },
  { name: 'app', summary: "this service's own version, uptime and start time", load: () => (require('./app') as typeof import('./app')).AppSource },
  { name: 'database', summary: 'PostgreSQL connections, transactions and table rows, and the series of `DATABASE_QUERIES_FILE`', load: () => (require('./database') as typeof import('./database')).DatabaseSource, shared: true, settings: DATABASE_SETTINGS },
  { name: 'iotflow', summary: 'IoTFlow devices (total, online, by status) and users, from its tables', load: () => (require('./iotflow') as typeof import('./iotflow')).IotflowSource, shared: true, settings: IOTFLOW_SETTINGS },
  { name: 'redis', summary: 'Redis INFO: memory, clients, keys, hits and misses, evictions', load: () => (require('./redis') as typeof import('./redis')).RedisSource, shared: true, settings: REDIS_SETTINGS },
  { name: 'mqtt', summary: "the broker's `$SYS` statistics and the IoTFlow telemetry count", load: () => (require('./mqtt') as typeof import('./mqtt')).MqttSource, settings: MQTT_SETTINGS },
] as const satisfies readonly SourceDefinition[];

export type SourceName = (typeof SOURCE_TABLE)[number]['name'];

/** The sources whose whole output describes a shared target. */
export const SHARED_SOURCE_NAMES: ReadonlySet<string> = new Set(SOURCE_TABLE.filter((definition: SourceDefinition) => definition.shared).map((definition) => definition.name));

export const SOURCE_NAMES: readonly SourceName[] = SOURCE_TABLE.map((definition) => definition.name);

/** The sources of `table` that `SOURCES` enables when unset: all but those marked off by default. */
export function defaultSourceNames(table: readonly SourceDefinition[]): string[] {
  return table.filter((definition) => definition.enabledByDefault !== false).map((definition) => definition.name);
}

export const DEFAULT_SOURCE_NAMES: readonly string[] = defaultSourceNames(SOURCE_TABLE);
