import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** A procfs file whose content this source cannot use. */
export class ProcFormatError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ProcFormatError';
  }
}

const UNSIGNED = /^\d+$/;

/** Parses unsigned decimal fields; undefined when any is missing or not a number. */
export function unsignedFields(fields: readonly string[], count: number): number[] | undefined {
  if (fields.length < count) return undefined;
  const values = fields.slice(0, count);
  return values.every((field) => UNSIGNED.test(field)) ? values.map(Number) : undefined;
}

/**
 * Reads procfs files, named relative to the proc root, through handles kept open between
 * collections. The kernel generates a procfs file afresh for a read from offset 0, so this costs
 * two thread-pool round trips per file (data, then end of file) instead of readFile's five (open,
 * fstat, read, read, close): measured at about 1 ms less CPU per collection. Each read gets its
 * own buffer, so a read left running by a timed-out collection cannot garble the next one.
 */
export class ProcFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  /** Size of each file's last read buffer, so it is usually right the first time. */
  private readonly bufferSizes = new Map<string, number>();

  constructor(private readonly root = '/proc') {}

  /** One synchronous read, for the few at start. */
  readNow(file: string): string {
    return readFileSync(path.resolve(this.root, file), 'utf8');
  }

  async read(file: string): Promise<string> {
    const fullPath = path.resolve(this.root, file);
    let handle = this.handles.get(fullPath);
    if (!handle) this.handles.set(fullPath, (handle = open(fullPath, 'r')));
    try {
      const fileHandle = await handle;
      let buffer = Buffer.allocUnsafe(this.bufferSizes.get(fullPath) ?? 4096);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          const grown = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(grown);
          buffer = grown;
        }
        const { bytesRead } = await fileHandle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      this.bufferSizes.set(fullPath, buffer.length);
      return buffer.toString('utf8', 0, length);
    } catch (error) {
      // Reopened next time; the handle (if it ever opened) is closed now.
      if (this.handles.get(fullPath) === handle) this.handles.delete(fullPath);
      void handle.then((fileHandle) => fileHandle.close()).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map((handle) => handle.then((fileHandle) => fileHandle.close())));
  }
}
