import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TALLY = path.join(__dirname, '..', '..', '.ci', 'tally.js');

// CI's last line sums every run; a run that broke before reporting must not vanish from the sum.
describe('.ci/tally.js', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ci-tally-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const tally = (...files: string[]) => spawnSync(process.execPath, [TALLY, ...files], { encoding: 'utf8' }).stdout.trim();

  it('sums jest reports (a suite that failed to load is one failure) and smoke reports', () => {
    const jest = write('jest.json', {
      numPassedTests: 10,
      numFailedTests: 1,
      testResults: [
        { status: 'failed', assertionResults: [] },
        { status: 'failed', assertionResults: [{ status: 'failed' }] },
        { status: 'passed', assertionResults: [{ status: 'passed' }] },
      ],
    });
    const smoke = write('smoke.json', { passed: 8, failed: 0 });
    expect(tally(jest, smoke)).toBe('18 passed, 2 failed');
  });

  it('counts a missing or unreadable report as one failure', () => {
    const smoke = write('smoke.json', { passed: 3, failed: 0 });
    const truncated = write('jest.json', '{"numPassedTests": 4');
    expect(tally(smoke, truncated, path.join(dir, 'never-written.json'))).toBe('3 passed, 2 failed');
  });
});
