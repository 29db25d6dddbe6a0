import { ContainerModule } from 'inversify';
import type { ServiceConfig } from '../streams/config';
import { QUERIES_FILE } from '../streams/database/settings';
import { SOURCE_NAMES, SOURCE_TABLE, type SourceDefinition } from '../streams/sources';
import { TYPES } from '../src/tokens';

/**
 * The enabled rows of the source table, each with its settings (the configuration, which holds every
 * group's values, under the token of the source's group), the PostgreSQL pool that the database
 * sources share, and the database source's queries file.
 */
export function sourcesModule(config: ServiceConfig): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.SourceNames).toConstantValue(SOURCE_NAMES);
    // Resolved, and pg loaded, only when an enabled source injects the pool.
    bind(TYPES.DatabasePool)
      .toDynamicValue(({ get }) => get((require('../src/db/database-pool') as typeof import('../src/db/database-pool')).DatabasePool, { autobind: true }))
      .inSingletonScope();
    // Read when first resolved (the composition root does it before the start, so a broken file stops it).
    if (config.databaseQueriesFile !== undefined && config.sources.has('database')) {
      const path = config.databaseQueriesFile;
      bind(QUERIES_FILE)
        .toDynamicValue(({ get }) => {
          const { QueriesFileState } = require('../streams/database/queries/queries-file-state') as typeof import('../streams/database/queries/queries-file-state');
          return new QueriesFileState(path, get(TYPES.Logger), () => get(TYPES.Clock).epochMs());
        })
        .inSingletonScope();
    }
    for (const definition of SOURCE_TABLE as readonly SourceDefinition[]) {
      if (!config.sources.has(definition.name)) continue;
      if (definition.settings) bind(definition.settings.token).toConstantValue(config);
      bind(TYPES.MetricSource).to(definition.load()).inSingletonScope();
    }
  });
}
