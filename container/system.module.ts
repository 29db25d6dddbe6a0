import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { SystemSource } from '../streams/system';
import { TYPES } from './identifiers';

/** Source `system`: host CPU, memory, load, filesystems, disk I/O and network. */
export function systemModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (config.sources.has('system')) bind(TYPES.MetricSource).to(SystemSource).inSingletonScope();
  });
}
