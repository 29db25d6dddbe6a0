import type { Clock } from '../../src/clock';
import type { Config } from '../../src/config';
import type { SystemSettings } from './settings';
import type { Logger } from '../../src/logger';
import type { MetricDescriptor, Sample } from '../../src/source';
import type { ProcFiles } from './proc-files';

export type Systeminformation = typeof import('systeminformation');

/**
 * Where the host is read from: the procfs files under SYSTEM_PROC_ROOT (Linux), or, where there
 * are none (macOS, Windows), systeminformation and node:os. systeminformation is loaded on first
 * use only: on Linux it never is.
 */
export type HostAccess =
  | { readonly kind: 'proc'; readonly files: ProcFiles }
  | { readonly kind: 'portable'; readonly systeminformation: () => Promise<Systeminformation> };

/** What every host collector is built from. */
export interface CollectorContext {
  readonly config: Config & SystemSettings;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * One host collector (as node_exporter's are): its metric families, and one reading of them per
 * collection, from either kind of host access; a series the portable access cannot give is
 * absent. The `system` source runs the collectors that `SYSTEM_COLLECTORS` names, together.
 */
export interface HostCollector {
  readonly metrics: readonly MetricDescriptor[];
  /** Takes what a first collection compares with; must not throw. */
  start?(host: HostAccess): void;
  /**
   * Monotonic time from which a reading means something (the CPU baseline is old enough): the
   * source waits until every collector is ready, then reads them all at once.
   */
  readyAtMs?(host: HostAccess): Promise<number>;
  collect(host: HostAccess): Promise<Sample[]>;
  stop?(): void;
}

/** A quarter of the collection timeout: the longest a collector may wait on one thing. */
export const quarterTimeoutMs = (config: Config): number => (config.collectionTimeoutSeconds * 1000) / 4;
