import { decodeSqlValue, goFloatText, goParseFloat, toCount, toFloat, toLabel } from '../../streams/database/queries/sql-values';

const [BOOL, INT8, FLOAT4, FLOAT8, TEXT, NUMERIC, DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL] = [16, 20, 700, 701, 25, 1700, 1082, 1114, 1184, 1186];

describe('column values as postgres_exporter 0.11 converts them', () => {
  it('parses numbers as strconv.ParseFloat: no spaces, Inf and NaN in any case', () => {
    expect(['17.5', '1e3', '-Infinity', 'inf', 'NaN', '1_000', ' 12', '', 'abc', '0x10'].map(goParseFloat)).toEqual([17.5, 1000, -Infinity, Infinity, NaN, 1000, undefined, undefined, undefined, undefined]);
  });

  it('turns values into numbers: NULL is NaN, booleans 1 and 0, timestamps Unix seconds (floored), text only when it is a number', () => {
    const value = (text: string | null, type: number) => toFloat(decodeSqlValue(text, type));
    expect(value(null, INT8)).toBeNaN();
    expect([value('t', BOOL), value('f', BOOL)]).toEqual([1, 0]);
    expect(value('9007199254740993', INT8)).toBe(9007199254740992);
    expect(value('0.1', FLOAT4)).toBe(0.1);
    expect(value('123.456', NUMERIC)).toBe(123.456);
    expect(value('2024-03-01 12:00:00+02', TIMESTAMPTZ)).toBe(1709287200);
    expect(value('2024-03-01 12:00:00.75', TIMESTAMP)).toBe(1709294400);
    expect(value('1969-12-31 23:59:59.5', TIMESTAMP)).toBe(-1);
    expect(value('2024-03-01', DATE)).toBe(1709251200);
    expect(value('infinity', TIMESTAMPTZ)).toBe(Infinity);
    expect(value('00:00:01', INTERVAL)).toBeUndefined();
    expect(value('abc', TEXT)).toBeUndefined();
  });

  it('writes label values as dbToString: NULL empty, floats as Go %v, timestamps as Unix seconds', () => {
    const label = (text: string | null, type: number) => toLabel(decodeSqlValue(text, type));
    expect([label(null, TEXT), label('t', BOOL), label('7', INT8), label('2024-03-01', DATE), label('{a,b}', TEXT)]).toEqual(['', 'true', '7', '1709251200', '{a,b}']);
    expect([1234567, 123456, 0.5, 1e21, 0.00001, 0.0001, -2.5e-7, NaN, Infinity].map(goFloatText)).toEqual(['1.234567e+06', '123456', '0.5', '1e+21', '1e-05', '0.0001', '-2.5e-07', 'NaN', '+Inf']);
  });

  it('reads a histogram count as dbToUint64: NULL 0, text only as a whole number', () => {
    expect([toCount(null), toCount(decodeSqlValue('12', TEXT)), toCount(decodeSqlValue('1.5', TEXT)), toCount(decodeSqlValue('2.9', FLOAT8))]).toEqual([0, 12, undefined, 2]);
  });
});
