import { loadQueriesFile, type QueriesFile } from './queries-file';

export interface QueriesFileLog {
  info(message: string): void;
  error(message: string): void;
}

/**
 * The queries file in force, and its reloads. The first load throws (the start stops, exit 2);
 * a reload that fails to read, parse or validate the file is refused with one log line, and the
 * last good file stays in force.
 */
export class QueriesFileState {
  private file: QueriesFile;
  private loadedAtMs: number;
  private reloads = { success: 0, failure: 0 };

  constructor(
    readonly path: string,
    private readonly log: QueriesFileLog,
    private readonly epochMs: () => number,
  ) {
    this.file = loadQueriesFile(path);
    this.loadedAtMs = epochMs();
  }

  get current(): QueriesFile {
    return this.file;
  }

  /** Unix time, in seconds, at which the file in force was read. */
  get loadedAtSeconds(): number {
    return this.loadedAtMs / 1000;
  }

  get reloadCounts(): { readonly success: number; readonly failure: number } {
    return this.reloads;
  }

  /** Reads the file again; true when the new one is now in force. */
  reload(): boolean {
    try {
      this.file = loadQueriesFile(this.path);
    } catch (error) {
      this.reloads = { ...this.reloads, failure: this.reloads.failure + 1 };
      this.log.error(`queries file reload refused, the file loaded before stays in force: ${(error as Error).message}`);
      return false;
    }
    this.loadedAtMs = this.epochMs();
    this.reloads = { ...this.reloads, success: this.reloads.success + 1 };
    this.log.info(`queries file ${this.path} reloaded: ${this.file.namespaces.length} namespaces`);
    return true;
  }
}
