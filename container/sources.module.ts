import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { SOURCE_NAMES, SOURCE_TABLE } from '../streams/sources';
import { TYPES } from '../src/tokens';

/** The enabled rows of the source table, and the PostgreSQL pool that the database sources share. */
export function sourcesModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.SourceNames).toConstantValue(SOURCE_NAMES);
    // Resolved, and pg loaded, only when an enabled source injects the pool.
    bind(TYPES.DatabasePool)
      .toDynamicValue(({ get }) => get((require('../src/db/database-pool') as typeof import('../src/db/database-pool')).DatabasePool, { autobind: true }))
      .inSingletonScope();
    for (const definition of SOURCE_TABLE) {
      if (config.sources.has(definition.name)) bind(TYPES.MetricSource).to(definition.load()).inSingletonScope();
    }
  });
}
