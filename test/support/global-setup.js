// Brings dist/ up to date for the integration tests that start the service as its own process
// (exit codes, signals, the native uWS check, a real Prometheus scrape). `tsc -b` builds
// incrementally: after `npm run typecheck`, which npm test runs first and which emits dist/ with
// the same configuration, it finds nothing to do and the project is compiled once per run. Type
// errors are typecheck's to report; tsc -b still emits JavaScript for them, which is all we need here.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const root = path.join(__dirname, '..', '..');
  // The service (tsc -b: nothing to do after typecheck), then the live page's script (a browser program of its own: DOM, no Node).
  for (const [args, output] of [[['-b', 'tsconfig.json'], ['dist', 'container', 'main.js']], [['-p', 'src/page/browser/tsconfig.json'], ['dist', 'page', 'live-page.js']]]) {
    const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...args], { cwd: root, encoding: 'utf8' });
    if (build.error || !existsSync(path.join(root, ...output))) {
      throw new Error(`building dist/ (${args.join(' ')}) failed:\n${build.stdout}${build.stderr}${build.error ?? ''}`);
    }
  }
};
