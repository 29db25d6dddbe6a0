export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/**
 * One line per event on stderr: `<ISO time> <level> <message>`. Messages are built by callers
 * from redacted values only (see redact.ts); the logger itself never sees a raw URL.
 */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const at = (lineLevel: Exclude<LogLevel, 'silent'>) =>
    rank[lineLevel] < rank[level]
      ? () => undefined
      : (message: string) => write(`${new Date().toISOString()} ${lineLevel} ${message}\n`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
