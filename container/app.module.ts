import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { AppSource } from '../streams/app';
import { TYPES } from './identifiers';

/** Source `app`: this process's own info and uptime. */
export function appModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (config.sources.has('app')) bind(TYPES.MetricSource).to(AppSource).inSingletonScope();
  });
}
