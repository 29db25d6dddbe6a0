/**
 * Library entry point (package.json "main"): what an application embedding the exporter uses.
 * createInstrumentedPool(config, registry) gives a pg Pool whose queries are counted in
 * database_queries_total and database_query_duration_seconds of that registry.
 */
export { createInstrumentedPool, operationOf, QUERY_OPERATIONS, type QueryOperation } from './db/instrumented-pool';
