import { inject, injectable } from 'inversify';
import { concatMap, defer, from, map, of, timer, type Observable } from '../../src/rx';
import { TYPES } from '../../src/tokens';
import type { Clock } from '../../src/clock';
import type { Config } from '../../src/config';
import { SYSTEM_SETTINGS, type SystemCollectorName, type SystemSettings } from './settings';
import type { Logger } from '../../src/logger';
import type { MetricDescriptor, MetricSource, Sample } from '../../src/source';
import type { CollectorContext, HostAccess, HostCollector, Systeminformation } from './collector';
import { CpuCollector, parseProcStat } from './cpu';
import { DiskstatsCollector } from './diskstats';
import { FilesystemsCollector } from './filesystems';
import { InfoCollector } from './info';
import { LoadCollector } from './load';
import { MemoryCollector } from './memory';
import { NetdevCollector } from './netdev';
import { ProcFiles } from './proc-files';
import { errorText } from '../../src/error-text';

/*
 * On Linux, host metrics are read straight from procfs and statfs(2): a few small file
 * reads. systeminformation reads /proc/stat through a synchronous `cat` child process and sizes
 * filesystems by running `df`, which costs milliseconds of CPU every tick, so it serves only hosts
 * without /proc (macOS, Windows), and is loaded only there.
 */

/** The host collectors by `SYSTEM_COLLECTORS` name, in the order their samples are emitted. */
const COLLECTORS: Readonly<Record<SystemCollectorName, new (context: CollectorContext) => HostCollector>> = {
  cpu: CpuCollector,
  load: LoadCollector,
  memory: MemoryCollector,
  filesystems: FilesystemsCollector,
  diskstats: DiskstatsCollector,
  netdev: NetdevCollector,
  info: InfoCollector,
};

/** Host CPU, memory, load, filesystems, block-device I/O and network counters. */
@injectable()
export class SystemSource implements MetricSource {
  readonly name = 'system';
  readonly metrics: readonly MetricDescriptor[];
  private readonly collectors: readonly HostCollector[];
  private readonly files: ProcFiles;
  private readonly procRoot: string;
  private host?: HostAccess;
  private systeminformation?: Promise<Systeminformation>;

  constructor(
    @inject(SYSTEM_SETTINGS.token) config: Config & SystemSettings,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    this.procRoot = config.systemProcRoot;
    this.files = new ProcFiles(config.systemProcRoot);
    const context: CollectorContext = { config, clock, logger };
    this.collectors = (Object.keys(COLLECTORS) as SystemCollectorName[])
      .filter((name) => config.systemCollectors.has(name))
      .map((name) => new COLLECTORS[name](context));
    this.metrics = this.collectors.flatMap((collector) => collector.metrics);
  }

  start(): void {
    const host = this.hostAccess();
    for (const collector of this.collectors) collector.start?.(host);
  }

  stop(): Promise<void> {
    for (const collector of this.collectors) collector.stop?.();
    this.files.close();
    return Promise.resolve();
  }

  /** Waits, if needed, until every collector is ready (the CPU baseline), then reads them all at once, so the samples describe one moment. */
  collect(): Observable<readonly Sample[]> {
    const host = this.hostAccess();
    return defer(() => from(Promise.all(this.collectors.map((collector) => collector.readyAtMs?.(host) ?? 0)))).pipe(
      concatMap((readyAt) => {
        const waitMs = Math.max(0, ...readyAt) - this.clock.monotonicMs();
        return waitMs > 0 ? timer(waitMs) : of(0);
      }),
      concatMap(() => from(Promise.all(this.collectors.map((collector) => collector.collect(host))))),
      map((perCollector) => perCollector.flat()),
    );
  }

  /**
   * procfs when the proc root has a /proc/stat this source can read, decided once; otherwise
   * systeminformation, loaded on first use.
   */
  private hostAccess(): HostAccess {
    if (this.host) return this.host;
    try {
      parseProcStat(this.files.read('stat'));
      return (this.host = { kind: 'proc', files: this.files });
    } catch (error) {
      this.logger.info(`source system: no usable ${this.procRoot}/stat (${errorText(error)}); reading the host through systeminformation`);
      return (this.host = { kind: 'portable', systeminformation: () => (this.systeminformation ??= import('systeminformation')) });
    }
  }
}
