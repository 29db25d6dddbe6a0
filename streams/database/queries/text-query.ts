import type { PoolClient } from '../../../src/db/pg';
import type { TextResult } from './query-families';

/** Every column as PostgreSQL's text: values are decoded as postgres_exporter's driver decodes them (sql-values.ts). */
const TEXT_TYPES = { getTypeParser: () => (text: string) => text };

/**
 * Runs one query of the file with a statement_timeout set in the same round trip. The two
 * statements are one implicit transaction: if the query fails, the SET is undone with it.
 * Errors come out described by `describe` (server named, secrets redacted).
 */
export async function runTextQuery(client: PoolClient, sql: string, statementTimeoutMs: number, describe: (error: unknown) => string): Promise<TextResult> {
  let results;
  try {
    results = await client.query({ text: `SET statement_timeout = ${Math.max(1, Math.floor(statementTimeoutMs))};\n${sql}`, rowMode: 'array', types: TEXT_TYPES });
  } catch (error) {
    // A lost connection fails the next statement too, and with it the collection.
    throw new Error(describe(error));
  }
  const result = (results as unknown as { fields: TextResult['fields']; rows: TextResult['rows'] }[])[1];
  if (!result) throw new Error('the query returned no result set');
  return { fields: result.fields, rows: result.rows };
}
