import { parseQueriesFile } from '../../streams/database/queries/queries-file';
import { declaredFamilies, namespaceSeries, type TextResult } from '../../streams/database/queries/query-families';

const [INT, TEXT, FLOAT_ARRAY, INT_ARRAY, FLOAT] = [23, 25, 1022, 1016, 701];
const namespace = (yaml: string) => parseQueriesFile('q.yaml', yaml).namespaces[0];
const result = (columns: [string, number][], rows: (string | null)[][]): TextResult => ({ fields: columns.map(([name, dataTypeID]) => ({ name, dataTypeID })), rows });

describe('namespaceSeries, as postgres_exporter 0.11 derives series from a result', () => {
  const kinds = namespace('pg_k:\n  query: "q"\n  metrics:\n    - kind: {usage: "LABEL"}\n    - n: {usage: "COUNTER"}\n');

  it('makes a series of an undeclared column holding a number, and leaves out one holding text or making no valid name', () => {
    const series = namespaceSeries(kinds, result([['kind', TEXT], ['n', INT], ['extra', INT], ['words', TEXT], ['no good', INT]], [['a', '1', '2', 'x', '3']]));
    expect(series.samples).toEqual([
      { name: 'pg_k_n', labels: { kind: 'a' }, value: 1 },
      { name: 'pg_k_extra', labels: { kind: 'a' }, value: 2 },
    ]);
    expect(series.undeclared).toEqual([{ name: 'pg_k_extra', help: 'Unknown metric from pg_k', type: 'gauge', labelNames: ['kind'], asReported: true }]);
    expect(series.skipped).toEqual(['column words is not a number', 'column no good is not declared and would make "pg_k_no good", which cannot be one of the file\'s families']);
  });

  it('reads a LABEL column the query does not return from the first column, as a missing map key reads index 0 there', () => {
    expect(namespaceSeries(kinds, result([['n', INT]], [['5']])).samples).toEqual([{ name: 'pg_k_n', labels: { kind: '5' }, value: 5 }]);
  });

  it('types a COUNTER not named _total as gauge (OpenMetrics would rename its sample), one named so as counter', () => {
    const both = namespace('pg_c:\n  query: "q"\n  metrics:\n    - n: {usage: "COUNTER"}\n    - n_total: {usage: "COUNTER"}\n');
    expect(declaredFamilies(both).map(({ name, type }) => [name, type])).toEqual([['pg_c_n', 'gauge'], ['pg_c_n_total', 'counter']]);
  });

  describe('a histogram', () => {
    const latency = namespace('pg_h:\n  query: "q"\n  metrics:\n    - s: {usage: "HISTOGRAM"}\n');
    const columns: [string, number][] = [['s', FLOAT_ARRAY], ['s_bucket', INT_ARRAY], ['s_sum', FLOAT], ['s_count', INT]];

    it('is left out when a part is missing, and fails the whole result when an array does not parse', () => {
      expect(namespaceSeries(latency, result(columns.slice(0, 1), [['{1}']])).skipped).toEqual(['histogram s has no column s_bucket']);
      expect(() => namespaceSeries(latency, result(columns, [['{1,NULL}', '{1,2}', '3', '2']]))).toThrow('column s is not an array of bucket bounds');
      expect(() => namespaceSeries(latency, result(columns, [['{1,2}', '{1.5,2}', '3', '2']]))).toThrow('column s_bucket is not an array of whole numbers');
    });
  });
});
