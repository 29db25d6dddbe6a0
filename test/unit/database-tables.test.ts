import { parseTableListing, tableSamples } from '../../streams/database/tables';

describe('parseTableListing and tableSamples', () => {
  it('turn the row of TABLES_SQL into table facts, and row counts into samples', () => {
    const listing = parseTableListing({
      tables: [{ schema: 'audit', name: 'events', label: 'audit.events', readable: true, reltuples: 10, relpages: 1, live_tuples: 10, dead_tuples: 2 }],
      missing: ['nope'],
    });
    expect(listing).toEqual({
      tables: [{ schema: 'audit', name: 'events', label: 'audit.events', readable: true, reltuples: 10, relpages: 1, liveTuples: 10, deadTuples: 2 }],
      missing: ['nope'],
    });
    expect(tableSamples({ rows: new Map([['audit.events', 11]]), exact: 1, estimated: 0, skipped: 2 })).toEqual([
      { name: 'database_collection_tables', labels: { row_count: 'exact' }, value: 1 },
      { name: 'database_collection_tables', labels: { row_count: 'estimate' }, value: 0 },
      { name: 'database_collection_tables', labels: { row_count: 'skipped' }, value: 2 },
      { name: 'database_table_rows', labels: { table: 'audit.events' }, value: 11 },
    ]);
  });

  it('names the column that is not as expected', () => {
    expect(() => parseTableListing({ tables: null, missing: [] })).toThrow('column tables is not a list (null)');
  });
});
