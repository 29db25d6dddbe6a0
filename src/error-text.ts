/**
 * The text of anything thrown, for /health, the stream and the log. Node leaves the message
 * empty on some socket errors but sets `code`, and reports a refused dual-stack connect as an
 * AggregateError with an empty message: its inner errors say what happened.
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  const inner = (error as Partial<AggregateError>).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map(errorText).join('; ');
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : error.name;
}
