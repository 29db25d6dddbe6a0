import { inject, injectable } from 'inversify';
import { concatMap, defer, from, of, timer, type Observable } from 'rxjs';
import { TYPES } from '../../container/identifiers';
import type { Clock } from '../../src/clock';
import type { Config, SystemCollectorName } from '../../src/config';
import type { Logger } from '../../src/logger';
import type { MetricDescriptor, MetricSource, Sample } from '../source';
import type { CollectorContext, HostCollector } from './collector';
import { CpuCollector } from './cpu';
import { DiskstatsCollector } from './diskstats';
import { FilesystemsCollector } from './filesystems';
import { LoadCollector } from './load';
import { MemoryCollector } from './memory';
import { NetdevCollector } from './netdev';
import { ProcFiles } from './proc-files';

/*
 * Host metrics read straight from procfs and statfs(2). systeminformation is not used: it reads
 * /proc/stat through a synchronous `cat` child process and sizes filesystems by running `df`,
 * which costs milliseconds of CPU every tick; these reads are a few small async file reads.
 */

/** The host collectors by `SYSTEM_COLLECTORS` name, in the order their samples are emitted. */
const COLLECTORS: Readonly<Record<SystemCollectorName, new (context: CollectorContext) => HostCollector>> = {
  cpu: CpuCollector,
  load: LoadCollector,
  memory: MemoryCollector,
  filesystems: FilesystemsCollector,
  diskstats: DiskstatsCollector,
  netdev: NetdevCollector,
};

/** Host CPU, memory, load, filesystems, block-device I/O and network counters (catalog §1). */
@injectable()
export class SystemSource implements MetricSource {
  readonly name = 'system';
  readonly metrics: readonly MetricDescriptor[];
  private readonly collectors: readonly HostCollector[];
  private readonly files = new ProcFiles();

  constructor(
    @inject(TYPES.Config) config: Config,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.Logger) logger: Logger,
  ) {
    const context: CollectorContext = { config, clock, logger };
    this.collectors = (Object.keys(COLLECTORS) as SystemCollectorName[])
      .filter((name) => config.systemCollectors.has(name))
      .map((name) => new COLLECTORS[name](context));
    this.metrics = this.collectors.flatMap((collector) => collector.metrics);
  }

  start(): void {
    for (const collector of this.collectors) collector.start?.(this.files);
  }

  async stop(): Promise<void> {
    for (const collector of this.collectors) collector.stop?.();
    await this.files.close();
  }

  /** Waits, if needed, until every collector is ready (the CPU baseline), then reads them all at once, so the samples describe one moment. */
  collect(): Observable<readonly Sample[]> {
    return defer(() => from(Promise.all(this.collectors.map((collector) => collector.readyAtMs?.(this.files) ?? 0)))).pipe(
      concatMap((readyAt) => {
        const waitMs = Math.max(0, ...readyAt) - this.clock.monotonicMs();
        return waitMs > 0 ? timer(waitMs) : of(0);
      }),
      concatMap(() => from(Promise.all(this.collectors.map((collector) => collector.collect(this.files))))),
      concatMap((perCollector) => of(perCollector.flat())),
    );
  }
}
