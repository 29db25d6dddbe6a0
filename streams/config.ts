import { type Config, DATABASE_CONNECTION_SETTINGS, SERVER_SETTINGS } from '../src/config';
import { type Env, loadGroup, secretsOf, type SettingsGroup, type SettingsReader } from '../src/settings';
import type { DatabaseSettings } from './database/settings';
import type { IotflowSettings } from './iotflow-settings';
import type { MqttSettings } from './mqtt-settings';
import type { RedisSettings } from './redis-settings';
import { DEFAULT_SOURCE_NAMES, SOURCE_NAMES, SOURCE_TABLE, type SourceDefinition } from './sources';
import type { SystemSettings } from './system/settings';

/** Which sources run. */
const SOURCES_SETTINGS = {
  title: 'sources',
  settings: [{ name: 'SOURCES', default: DEFAULT_SOURCE_NAMES.join(','), meaning: `the sources to run, of ${SOURCE_NAMES.join(', ')}` }],
  load: (read: SettingsReader) => ({ sources: new Set<string>(read.listOf('SOURCES', SOURCE_NAMES)) }),
} satisfies SettingsGroup<Pick<Config, 'sources'>>;

/** Every settings group, in the order `--help` lists them: the server's, then each source's. */
export const SETTINGS_GROUPS: readonly SettingsGroup<unknown>[] = [
  SERVER_SETTINGS,
  SOURCES_SETTINGS,
  DATABASE_CONNECTION_SETTINGS,
  ...SOURCE_TABLE.flatMap((definition: SourceDefinition) => (definition.settings ? [definition.settings] : [])),
];

/** The whole configuration: the server's, and every source's settings (each source injects its own part). */
export type ServiceConfig = Config & SystemSettings & DatabaseSettings & IotflowSettings & RedisSettings & MqttSettings;

/** Reads and validates every group's variables. Throws ConfigError on the first bad value. */
export function loadConfig(env: Env): ServiceConfig {
  const values = SETTINGS_GROUPS.map((group) => loadGroup(group, env));
  return Object.assign({}, ...values, { secrets: secretsOf(SETTINGS_GROUPS, env) }) as ServiceConfig;
}
