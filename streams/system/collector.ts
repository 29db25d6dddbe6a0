import type { Clock } from '../../src/clock';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/logger';
import type { MetricDescriptor, Sample } from '../source';
import type { ProcFiles } from './proc-files';

/** What every host collector is built from. */
export interface CollectorContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * One host collector (as node_exporter's are): its metric families, and one reading of them per
 * collection. The `system` source runs the collectors that `SYSTEM_COLLECTORS` names, together.
 */
export interface HostCollector {
  readonly metrics: readonly MetricDescriptor[];
  /** Takes what a first collection compares with; must not throw. */
  start?(files: ProcFiles): void;
  /**
   * Monotonic time from which a reading means something (the CPU baseline is old enough): the
   * source waits until every collector is ready, then reads them all at once.
   */
  readyAtMs?(files: ProcFiles): Promise<number>;
  collect(files: ProcFiles): Promise<Sample[]>;
  stop?(): void;
}

/** A quarter of the collection timeout: the longest a collector may wait on one thing. */
export const quarterTimeoutMs = (config: Config): number => (config.collectionTimeoutSeconds * 1000) / 4;
