import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProcFiles } from '../../../streams/system/proc-files';

describe('ProcFiles', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'system-procfiles-'));
  const files = new ProcFiles();
  afterAll(() => {
    files.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a whole file larger than its first buffer, and fresh content through the kept descriptor', () => {
    const file = path.join(dir, 'grows');
    const first = 'a'.repeat(10_000) + '\n';
    writeFileSync(file, first);
    expect(files.read(file)).toBe(first);
    // Same inode rewritten in place, as the kernel regenerates a procfs file.
    writeFileSync(file, 'short\n');
    expect(files.read(file)).toBe('short\n');
  });

  it('reads a real procfs file as readFile does', () => {
    expect(files.read('/proc/self/mountinfo')).toBe(readFileSync('/proc/self/mountinfo', 'utf8'));
  });

  it('throws with the path of a missing file, and opens it once it exists', () => {
    const file = path.join(dir, 'later');
    expect(() => files.read(file)).toThrow(file);
    writeFileSync(file, 'here\n');
    expect(files.read(file)).toBe('here\n');
  });
});
