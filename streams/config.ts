import { type Config, type Env, parseConfig } from '../src/config';
import { SOURCE_NAMES } from './sources';

/** The service's configuration from the environment, `SOURCES` checked against the source table. */
export function loadConfig(env: Env): Config {
  return parseConfig(env, SOURCE_NAMES);
}
