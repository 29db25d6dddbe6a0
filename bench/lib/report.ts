import os from 'node:os';
import { type Limit, LIMITS, type LimitName } from '../budgets';

export const SUITE_NAMES = ['scrape', 'overhead', 'collector', 'telemetry', 'stream', 'footprint'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export interface BenchOptions {
  /** Fewer and shorter rounds: the whole bench under 3 minutes. */
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

/** Where a suite ran: figures from different machines or days are not comparable. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly date: string;
  /** 1, 5 and 15 minute load averages when the suite started: how busy the shared machine was. */
  readonly loadAverage: readonly number[];
  readonly totalMemoryMb: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
  };
}

/** One measurement against one limit of budgets.ts. */
export interface Check extends Limit {
  readonly name: LimitName;
  readonly value: number;
  readonly passed: boolean;
}

export function check(name: LimitName, value: number): Check {
  const limit: Limit = LIMITS[name];
  const passed = Number.isFinite(value) && (limit.max === undefined || value <= limit.max) && (limit.min === undefined || value >= limit.min);
  return { name, ...limit, value, passed };
}

export interface SuiteOutcome {
  /** Rows for the printed table: what was measured, and the figure. */
  readonly rows: ReadonlyArray<readonly [string, string]>;
  readonly checks: readonly Check[];
  /** Everything measured, for bench/results/latest.json. */
  readonly data: Record<string, unknown>;
  /** Set when the suite could not run here; a skipped suite misses no budget. */
  readonly skipped?: string;
}

export function skipped(reason: string): SuiteOutcome {
  return { rows: [], checks: [], data: {}, skipped: reason };
}

export type Suite = (options: BenchOptions) => Promise<SuiteOutcome>;
