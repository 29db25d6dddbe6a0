/**
 * Rewrites the generated part of docs/metrics.md from the registry: `npm run docs:metrics`
 * (run from dist/container/, so the document is two folders up, as from test/unit/).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metricReference, renderMetricReference, withReference } from './metric-reference';

async function main(): Promise<void> {
  const file = path.join(__dirname, '..', '..', 'docs', 'metrics.md');
  writeFileSync(file, withReference(readFileSync(file, 'utf8'), renderMetricReference(await metricReference())));
  process.stdout.write(`${path.relative(process.cwd(), file)} written\n`);
  // The registry's runtime collectors keep timers (the GC observer); the document is done.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
