import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { startCommand } from '../../bench/lib/start-command';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/**
 * The project's own files a tsconfig compiles: its root files and every file of the project they
 * import, directly or not (what `tsc --listFilesOnly` lists, less node_modules and the libraries),
 * read from the import statements alone: no program is built, nothing is type-checked.
 */
function compiledProjectFiles(configFile: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  })!;
  const compiled = new Set<string>();
  const visit = (file: string) => {
    if (compiled.has(file)) return;
    compiled.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8')).importedFiles) {
      const imported = ts.resolveModuleName(fileName, file, config.options, ts.sys).resolvedModule;
      if (imported && !imported.isExternalLibraryImport) visit(imported.resolvedFileName);
    }
  };
  config.fileNames.forEach(visit);
  return [...compiled];
}

// No Docker engine runs here: the image's contents are checked from what builds it.
describe('the Docker image', () => {
  it('copies the service and none of the benchmarks or tests', () => {
    const copied = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1].split(/\s+/));
    expect(copied).toEqual(expect.arrayContaining(['src', 'streams', 'container']));
    expect(copied.filter((source) => /^(bench|test)\b/.test(source))).toEqual([]);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['bench', 'test']));
  });

  it('starts the service as `npm start` does: the same node flags, and the glibc arena cap (issue 11)', () => {
    const start = startCommand(ROOT);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    expect(cmd && JSON.parse(cmd[1])).toEqual(['node', ...start.nodeArgs, `dist/${start.script}`]);
    expect(start.env).toEqual(expect.objectContaining({ MALLOC_ARENA_MAX: '2' }));
  });

  it('is built by a configuration that compiles no benchmark', () => {
    const files = compiledProjectFiles(path.join(ROOT, 'tsconfig.build.json'));
    expect(files.some((file) => file.endsWith('/src/main.ts'))).toBe(true);
    expect(files.filter((file) => file.includes('/bench/') || file.includes('/test/'))).toEqual([]);
  });
});
