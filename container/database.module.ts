import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { DatabasePool } from '../src/db/database-pool';
import { DatabaseSource } from '../streams/database';
import { IotflowSource } from '../streams/iotflow';
import { TYPES } from './identifiers';

/** Sources `database` and `iotflow`, and the one instrumented PostgreSQL pool they share. */
export function databaseModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    const database = config.sources.has('database');
    const iotflow = config.sources.has('iotflow');
    if (!database && !iotflow) return;
    bind(TYPES.DatabasePool).to(DatabasePool).inSingletonScope();
    if (database) bind(TYPES.MetricSource).to(DatabaseSource).inSingletonScope();
    if (iotflow) bind(TYPES.MetricSource).to(IotflowSource).inSingletonScope();
  });
}
