import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { SOURCE_TABLE } from '../streams/sources';
import { TYPES } from './identifiers';

/** The enabled rows of the source table, the PostgreSQL pool that the database sources share, and the database source's queries file. */
export function sourcesModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    // Resolved, and pg loaded, only when an enabled source injects the pool.
    bind(TYPES.DatabasePool)
      .toDynamicValue(({ get }) => get((require('../src/db/database-pool') as typeof import('../src/db/database-pool')).DatabasePool, { autobind: true }))
      .inSingletonScope();
    // Read when first resolved (the composition root does it before the start, so a broken file stops it).
    if (config.databaseQueriesFile !== undefined && config.sources.has('database')) {
      const path = config.databaseQueriesFile;
      bind(TYPES.QueriesFile)
        .toDynamicValue(({ get }) => {
          const { QueriesFileState } = require('../streams/database/queries/queries-file-state') as typeof import('../streams/database/queries/queries-file-state');
          return new QueriesFileState(path, get(TYPES.Logger), () => get(TYPES.Clock).epochMs());
        })
        .inSingletonScope();
    }
    for (const definition of SOURCE_TABLE) {
      if (config.sources.has(definition.name)) bind(TYPES.MetricSource).to(definition.load()).inSingletonScope();
    }
  });
}
