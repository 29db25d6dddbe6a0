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

  it('starts the service as `npm start` does: the same node flags, and the glibc arena cap', () => {
    const start = startCommand(ROOT);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    expect(cmd && JSON.parse(cmd[1])).toEqual(['node', ...start.nodeArgs, `dist/${start.script}`]);
    expect(start.env).toEqual(expect.objectContaining({ MALLOC_ARENA_MAX: '2' }));
  });

  it('builds the live page\'s script into dist/ from a folder it copies, with its own browser configuration', () => {
    const copied = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1].split(/\s+/));
    const browserProject = 'src/page/browser/tsconfig.json';
    expect(JSON.parse(read('package.json')).scripts.build).toContain(`tsc -p ${browserProject}`);
    expect(copied.some((source) => browserProject.startsWith(`${source}/`))).toBe(true);
    const { compilerOptions } = JSON.parse(read(browserProject)) as { compilerOptions: { outFile: string; lib: string[] } };
    // The file the server reads (src/page/live-page.ts), inside the dist/ the image's second stage copies.
    expect(path.relative(ROOT, path.resolve(ROOT, 'src/page/browser', compilerOptions.outFile))).toBe(path.join('dist', 'page', 'live-page.js'));
    expect(compilerOptions.lib).toContain('DOM');
  });

  it('builds and runs on Node 24 on Debian 13 (glibc 2.41: the native uWebSockets.js 20.57 loads)', () => {
    const bases = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    expect(bases).toEqual(['node:24-trixie-slim', 'node:24-trixie-slim']);
  });

  it('runs a Node major that package.json supports, and package.json supports exactly the majors CI tests', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    // Each alternative is one major: ">=N <N+1".
    const supported = engines.split('||').map((range) => {
      const bounds = /^\s*>=(\d+) <(\d+)\s*$/.exec(range);
      if (!bounds || Number(bounds[2]) !== Number(bounds[1]) + 1) throw new Error(`engines.node ${JSON.stringify(engines)}: expected ">=N <N+1" alternatives`);
      return Number(bounds[1]);
    });
    // CI runs the machine's Node 20 and the Node versions .ci/run pins (NODE_<major>=<version>).
    const pinned = [...read('.ci/run').matchAll(/^NODE_(\d+)=(\d+)\./gm)].map((match) => {
      expect(match[2]).toBe(match[1]);
      return Number(match[1]);
    });
    expect(supported.sort((a, b) => a - b)).toEqual([20, ...pinned].sort((a, b) => a - b));
    const imageMajor = Number(/^FROM node:(\d+)-/m.exec(read('Dockerfile'))?.[1]);
    expect(supported).toContain(imageMajor);
  });

  it('is built by a configuration that compiles no benchmark', () => {
    const files = compiledProjectFiles(path.join(ROOT, 'tsconfig.build.json'));
    expect(files.some((file) => file.endsWith('/container/main.ts'))).toBe(true);
    expect(files.filter((file) => file.includes('/bench/') || file.includes('/test/'))).toEqual([]);
  });
});
