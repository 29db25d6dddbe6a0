import { DatabaseError, type PoolClient } from '../../../src/db/pg';
import type { TextResult } from './query-families';

/** Every column as PostgreSQL's text: values are decoded as postgres_exporter's driver decodes them (sql-values.ts). */
const TEXT_TYPES = { getTypeParser: () => (text: string) => text };

/**
 * Runs one query of the file with a statement_timeout set in the same round trip. The two
 * statements are one implicit transaction: if the query fails, the SET is undone with it.
 * A server's error is described by `describe` (redacted); anything else (a lost connection)
 * is thrown as it is, so the collection fails and the connection is not reused.
 */
export async function runTextQuery(client: PoolClient, sql: string, statementTimeoutMs: number, describe: (error: unknown) => string): Promise<TextResult> {
  let results;
  try {
    results = await client.query({ text: `SET statement_timeout = ${Math.max(1, Math.floor(statementTimeoutMs))};\n${sql}`, rowMode: 'array', types: TEXT_TYPES });
  } catch (error) {
    if (error instanceof DatabaseError) throw new Error(describe(error));
    throw error;
  }
  const result = (results as unknown as { fields: TextResult['fields']; rows: TextResult['rows'] }[])[1];
  if (!result) throw new Error('the query returned no result set');
  return { fields: result.fields, rows: result.rows };
}
