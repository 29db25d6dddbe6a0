import { type Config, DATABASE_CONNECTION_SETTINGS, SERVER_SETTINGS } from '../src/config';
import { type Env, loadGroup, secretsOf, type SettingsGroup, type SettingsReader } from '../src/settings';
import { DEFAULT_SOURCE_NAMES, SOURCE_NAMES, SOURCE_TABLE, type SourceDefinition } from './sources';

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

type UnionToIntersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void ? I : never;
/** The values a source table row's settings load to; never for a row without settings. */
type SettingsOf<Row> = Row extends { readonly settings: { readonly load: (read: SettingsReader) => infer Values } } ? Values : never;

/**
 * The whole configuration: the server's, and the settings of every row of the source table (each
 * source injects its own part), so a new row's settings join it without an edit here.
 */
export type ServiceConfig = Config & UnionToIntersection<SettingsOf<(typeof SOURCE_TABLE)[number]>>;

/** Reads and validates every group's variables. Throws ConfigError on the first bad value. */
export function loadConfig(env: Env): ServiceConfig {
  const values = SETTINGS_GROUPS.map((group) => loadGroup(group, env));
  return Object.assign({}, ...values, { secrets: secretsOf(SETTINGS_GROUPS, env) }) as ServiceConfig;
}
