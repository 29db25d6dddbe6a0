import { readFileSync } from 'node:fs';
import path from 'node:path';
import { databaseSamples } from '../../streams/database';
import { parseServerStats } from '../../streams/database/server';

const serverRow = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'database', 'server-row.json'), 'utf8')) as Record<string, unknown>;

describe('databaseSamples', () => {
  it('turns the server figures and the row counts into the samples of the source', () => {
    const rows = new Map([['audit.events', 11], ['Odd Name', 3]]);
    expect(databaseSamples(parseServerStats(serverRow), { rows, exact: 1, estimated: 1, skipped: 1 }, 3)).toEqual([
      { name: 'database_connections_visible', value: 1 },
      { name: 'database_connections_total', value: 7 },
      { name: 'database_connections_active', value: 2 },
      { name: 'database_connections_idle', value: 4 },
      { name: 'database_connections_idle_in_transaction', value: 1 },
      { name: 'database_connections_max', value: 100 },
      { name: 'database_transactions_total', labels: { state: 'commit' }, value: 12345 },
      { name: 'database_transactions_total', labels: { state: 'rollback' }, value: 6 },
      { name: 'database_collection_queries', value: 3 },
      { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: 1 },
      { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: 1 },
      { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: 1 },
      { name: 'database_table_rows', labels: { table: 'audit.events' }, value: 11 },
      { name: 'database_table_rows', labels: { table: 'Odd Name' }, value: 3 },
    ]);
  });

  it('keeps the server samples when the table part failed', () => {
    expect(databaseSamples(parseServerStats(serverRow), undefined, 2).map(({ name }) => name)).toEqual([
      'database_connections_visible',
      'database_connections_total',
      'database_connections_active',
      'database_connections_idle',
      'database_connections_idle_in_transaction',
      'database_connections_max',
      'database_transactions_total',
      'database_transactions_total',
      'database_collection_queries',
    ]);
  });

  it('leaves the connection counts out, and says so, for a role that cannot see other sessions', () => {
    const hidden = parseServerStats({ ...serverRow, connections_visible: false, connections_total: 2, connections_active: 1, connections_idle: 1 });
    expect(databaseSamples(hidden, undefined, 1).filter(({ name }) => name.startsWith('database_connections'))).toEqual([
      { name: 'database_connections_visible', value: 0 },
      { name: 'database_connections_max', value: 100 },
    ]);
  });
});
