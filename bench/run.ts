/**
 * `npm run bench [-- --quick] [-- --only scrape,overhead] [-- --strict]`
 *
 * Runs the suites one after another (each starts its own servers as child processes and stops
 * them), prints a table, writes bench/results/latest.json (one key per suite, each with the
 * machine it ran on) and exits 1 when a budget of budgets.ts is missed; with --strict, when a
 * target is missed too. --only writes its suites into the existing latest.json, keeping the others.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/processes';
import { type BenchOptions, type Check, machineInfo, type Suite, SUITE_NAMES, type SuiteName, type SuiteOutcome } from './lib/report';
import { collectorSuite } from './suites/collector';
import { footprintSuite } from './suites/footprint';
import { overheadSuite } from './suites/overhead';
import { scrapeSuite } from './suites/scrape';
import { streamSuite } from './suites/stream';
import { telemetrySuite } from './suites/telemetry';

const SUITES: Record<SuiteName, Suite> = {
  scrape: scrapeSuite,
  overhead: overheadSuite,
  collector: collectorSuite,
  telemetry: telemetrySuite,
  stream: streamSuite,
  footprint: footprintSuite,
};

const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'latest.json');

interface Arguments {
  readonly quick: boolean;
  readonly strict: boolean;
  readonly only: readonly SuiteName[];
}

function parseArguments(argv: readonly string[]): Arguments {
  let quick = false;
  let strict = false;
  let only: SuiteName[] = [...SUITE_NAMES];
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (argument === '--quick') quick = true;
    else if (argument === '--strict') strict = true;
    else if (argument === '--only' || argument.startsWith('--only=')) {
      const list = argument === '--only' ? (argv[++i] ?? '') : argument.slice('--only='.length);
      only = list.split(',').map((name) => name.trim()) as SuiteName[];
      const unknown = only.find((name) => !(SUITE_NAMES as readonly string[]).includes(name));
      if (unknown !== undefined) throw new Error(`--only: unknown suite ${JSON.stringify(unknown)}; suites are ${SUITE_NAMES.join(', ')}`);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(argument)}; use --quick, --strict, --only <suites>`);
    }
  }
  return { quick, strict, only };
}

function formatCheck(item: Check, strict: boolean): string {
  const bound = item.max !== undefined ? `≤ ${item.max}` : `≥ ${item.min}`;
  const verdict = item.passed ? 'ok' : item.kind === 'budget' || strict ? 'MISSED' : 'missed (target)';
  return `${item.kind} ${item.name}: ${Number.isFinite(item.value) ? item.value : 'n/a'} ${item.unit} (${bound}) ${verdict}`;
}

function printTable(outcomes: ReadonlyArray<readonly [SuiteName, SuiteOutcome]>, strict: boolean): void {
  const rows: Array<[string, string, string]> = [];
  for (const [name, outcome] of outcomes) {
    if (outcome.skipped) {
      rows.push([name, 'skipped', outcome.skipped]);
      continue;
    }
    for (const [what, value] of outcome.rows) rows.push([name, what, value]);
    for (const item of outcome.checks) rows.push([name, '', formatCheck(item, strict)]);
  }
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length), column === 0 ? 5 : 7));
  const line = (cells: readonly string[]) => `| ${cells[0]!.padEnd(widths[0]!)} | ${cells[1]!.padEnd(widths[1]!)} | ${cells[2]} |`;
  process.stdout.write(['', line(['suite', 'measure', 'result']), line(['-'.repeat(widths[0]!), '-'.repeat(widths[1]!), '---']), ...rows.map(line), ''].join('\n') + '\n');
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const options: BenchOptions = { quick: args.quick, log: (line) => process.stderr.write(`  ${line}\n`) };
  const previous = existsSync(RESULTS_FILE) ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>) : {};
  const results: Record<string, unknown> = args.only.length < SUITE_NAMES.length ? previous : {};
  const outcomes: Array<[SuiteName, SuiteOutcome]> = [];
  const startedMs = Date.now();
  for (const name of args.only) {
    process.stderr.write(`${name}${args.quick ? ' (quick)' : ''}…\n`);
    const machine = machineInfo();
    const suiteStartedMs = Date.now();
    let outcome: SuiteOutcome;
    try {
      outcome = await SUITES[name](options);
    } catch (error) {
      // A suite that cannot measure has not shown its budget is kept.
      outcome = { rows: [['error', (error as Error)?.message ?? String(error)]], checks: [], data: { error: String(error) } };
      process.exitCode = 1;
    }
    outcomes.push([name, outcome]);
    results[name] = {
      machine,
      quick: args.quick,
      seconds: Math.round((Date.now() - suiteStartedMs) / 1000),
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
      ...outcome.data,
      checks: outcome.checks,
    };
  }
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
  printTable(outcomes, args.strict);
  const missed = outcomes.flatMap(([, outcome]) => outcome.checks).filter((item) => !item.passed && (item.kind === 'budget' || args.strict));
  process.stdout.write(
    `${missed.length === 0 ? 'every budget kept' : `${missed.length} missed: ${missed.map((item) => item.name).join(', ')}`}; ` +
      `${Math.round((Date.now() - startedMs) / 1000)} s; results in ${path.relative(process.cwd(), RESULTS_FILE)}\n`,
  );
  return missed.length === 0 && process.exitCode !== 1 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(2);
  },
);
