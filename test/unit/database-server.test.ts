import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseServerStats } from '../../streams/database/server';

const serverRow = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'database', 'server-row.json'), 'utf8')) as Record<string, unknown>;

describe('parseServerStats', () => {
  it('types the row of SERVER_SQL', () => {
    expect(parseServerStats(serverRow)).toEqual({
      database: 'iot',
      role: 'iotflow_metrics',
      versionNum: 160004,
      connections: { counts: { total: 7, active: 2, idle: 4, idleInTransaction: 1 }, max: 100 },
      transactions: { committed: 12345, rolledBack: 6 },
    });
  });

  it('has no connection counts when the role cannot see other sessions (connections_visible false)', () => {
    expect(parseServerStats({ ...serverRow, connections_visible: false }).connections).toEqual({ max: 100 });
  });

  it('names the column that is not as expected', () => {
    expect(() => parseServerStats({ ...serverRow, connections_max: '100' })).toThrow('column connections_max is not a number ("100")');
  });

  it('names connections_visible when it is not a boolean', () => {
    expect(() => parseServerStats({ ...serverRow, connections_visible: 't' })).toThrow('column connections_visible is not a boolean ("t")');
  });
});
