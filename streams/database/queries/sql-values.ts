/**
 * Column values as postgres_exporter 0.11 turns them into numbers and label values. Results are
 * read as PostgreSQL's text (no driver parsing) and decoded as lib/pq decodes them: booleans,
 * integers, floats and timestamps become typed values, everything else stays text; then its
 * dbToFloat64, dbToUint64 and dbToString apply.
 */
export type SqlValue =
  | null
  | { readonly kind: 'number'; readonly value: number; readonly integer: boolean }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'time'; readonly unixSeconds: number }
  | { readonly kind: 'text'; readonly value: string };

const BOOL = 16;
const INTEGERS = new Set([20, 21, 23]);
const FLOATS = new Set([700, 701]);
const TIMESTAMPS = new Set([1082, 1114, 1184]);

/** Go's strconv.ParseFloat: decimal with optional `_` between digits, Inf, Infinity, NaN; no spaces. */
const GO_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)$/i;

export function goParseFloat(text: string): number | undefined {
  if (!GO_FLOAT.test(text)) return undefined;
  const plain = text.replace(/_/g, '').toLowerCase();
  if (plain.endsWith('nan')) return plain === 'nan' ? NaN : undefined;
  if (plain.includes('inf')) return plain.startsWith('-') ? -Infinity : Infinity;
  return Number(plain);
}

/** `YYYY-MM-DD[ HH:MM:SS[.frac]][±HH[:MM[:SS]]]`, PostgreSQL's ISO output. */
const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/;

function unixSeconds(text: string): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', sign, offsetHours = '0', offsetMinutes = '0', offsetSeconds = '0'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 3600 + Number(offsetMinutes) * 60 + Number(offsetSeconds));
  return date.getTime() / 1000 - (sign ? offset : 0);
}

/** One column's text as lib/pq decodes a value of type `typeOid`. */
export function decodeSqlValue(text: string | null, typeOid: number): SqlValue {
  if (text === null) return null;
  if (typeOid === BOOL) return { kind: 'bool', value: text === 't' };
  if (INTEGERS.has(typeOid)) return { kind: 'number', value: Number(text), integer: true };
  if (FLOATS.has(typeOid)) return { kind: 'number', value: goParseFloat(text) ?? NaN, integer: false };
  if (TIMESTAMPS.has(typeOid)) {
    // lib/pq hands infinite timestamps over as their text.
    const seconds = unixSeconds(text);
    if (seconds !== undefined) return { kind: 'time', unixSeconds: seconds };
  }
  return { kind: 'text', value: text };
}

/** dbToFloat64: undefined where it fails (the metric is left out); NULL is NaN. */
export function toFloat(value: SqlValue): number | undefined {
  if (value === null) return NaN;
  switch (value.kind) {
    case 'number':
      return value.value;
    case 'bool':
      return value.value ? 1 : 0;
    case 'time':
      return value.unixSeconds;
    case 'text':
      return goParseFloat(value.value);
  }
}

/** dbToUint64, for a histogram's count: NULL is 0, text must be a whole number. */
export function toCount(value: SqlValue): number | undefined {
  if (value === null) return 0;
  if (value.kind === 'text') return /^\+?\d+$/.test(value.value) ? Number(value.value) : undefined;
  const number = toFloat(value);
  return number === undefined || !Number.isFinite(number) ? undefined : Math.max(0, Math.trunc(number));
}

/** dbToString: a label value. NULL is the empty string, numbers as Go's %v writes them. */
export function toLabel(value: SqlValue): string {
  if (value === null) return '';
  switch (value.kind) {
    case 'number':
      return value.integer ? String(value.value) : goFloatText(value.value);
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'time':
      return String(value.unixSeconds);
    case 'text':
      return value.value;
  }
}

/** Go's `%v` of a float64: the shortest digits, in exponent form below 1e-4 or from 1e6 on (strconv .g. shortest). */
export function goFloatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(value);
}

/** A PostgreSQL array's text (`{1,2.5,NULL}`) as numbers, as lib/pq's pq.Array scans it; undefined when it is not one. */
export function parseNumberArray(value: SqlValue, parse: (element: string) => number | undefined): number[] | undefined {
  if (value === null) return [];
  if (value.kind !== 'text' || !value.value.startsWith('{') || !value.value.endsWith('}')) return undefined;
  const inner = value.value.slice(1, -1);
  if (inner === '') return [];
  const numbers = inner.split(',').map(parse);
  return numbers.every((number) => number !== undefined) ? (numbers as number[]) : undefined;
}
