/** Checked reads of a result row's columns: each throws naming the column that is not as expected. */
export type Row = Readonly<Record<string, unknown>>;

export function finite(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`column ${column} is not a number (${JSON.stringify(value)})`);
  return value;
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column} is not text (${JSON.stringify(value)})`);
  return value;
}

export function flag(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value !== 'boolean') throw new Error(`column ${column} is not a boolean (${JSON.stringify(value)})`);
  return value;
}

export function list(row: Row, column: string): readonly Record<string, unknown>[] {
  const value = row[column];
  if (!Array.isArray(value)) throw new Error(`column ${column} is not a list (${JSON.stringify(value)})`);
  return value as Record<string, unknown>[];
}
