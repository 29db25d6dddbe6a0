import { ContainerModule } from 'inversify';
import type { ServiceConfig } from '../streams/config';
import { SOURCE_NAMES, SOURCE_TABLE, type SourceDefinition } from '../streams/sources';
import { TYPES } from '../src/tokens';

/**
 * The enabled rows of the source table, each with its settings (the configuration, which holds every
 * group's values, under the token of the source's group), and the PostgreSQL pool that the database
 * sources share.
 */
export function sourcesModule(config: ServiceConfig): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.SourceNames).toConstantValue(SOURCE_NAMES);
    // Resolved, and pg loaded, only when an enabled source injects the pool.
    bind(TYPES.DatabasePool)
      .toDynamicValue(({ get }) => get((require('../src/db/database-pool') as typeof import('../src/db/database-pool')).DatabasePool, { autobind: true }))
      .inSingletonScope();
    for (const definition of SOURCE_TABLE as readonly SourceDefinition[]) {
      if (!config.sources.has(definition.name)) continue;
      if (definition.settings) bind(definition.settings.token).toConstantValue(config);
      bind(TYPES.MetricSource).to(definition.load()).inSingletonScope();
    }
  });
}
