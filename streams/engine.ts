import { inject, injectable, multiInject } from 'inversify';
import {
  catchError,
  defer,
  finalize,
  exhaustMap,
  first,
  map,
  merge,
  Observable,
  of,
  share,
  Subscription,
  switchMap,
  throwError,
  timeout,
  timer,
} from '../src/rx';
import { Registry } from 'prom-client';
import { TYPES } from '../src/tokens';
import type { Clock } from '../src/clock';
import { type Election, SOLE_REPLICA } from '../src/cluster/election';
import { errorText } from '../src/error-text';
import { createLogger, type Logger } from '../src/logger';
import { UNSAMPLED_WORK, type WorkNotice } from '../src/metrics/event-loop-lag';
import { scrubSecrets } from '../src/redact';
import type { CollectionRunner, CollectionSink, EngineOptions } from '../src/collection';
import type { CollectionResult, MetricSource } from '../src/source';
import { SinkFailures } from './sink-failures';

/**
 * Merges every source into one stream of collection results.
 *
 * Each source gets its own pipeline: a tick every interval (the first at once), a collection
 * that may not outlive its timeout, and its own catchError, so a failing or hung source
 * produces a failure result while the others go on. `exhaustMap` drops the ticks that arrive
 * while the same source is still collecting, so a slow source skips ticks instead of piling
 * them up.
 */
@injectable()
export class CollectionEngine implements CollectionRunner {
  readonly results$: Observable<CollectionResult>;
  private running?: Subscription;
  private readonly sinkFailures: SinkFailures;

  constructor(
    @multiInject(TYPES.MetricSource) private readonly sources: readonly MetricSource[],
    @multiInject(TYPES.CollectionSink) private readonly sinks: readonly CollectionSink[],
    @inject(TYPES.EngineOptions) private readonly options: EngineOptions,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.Election) private readonly election: Election = SOLE_REPLICA,
    @inject(TYPES.WorkNotice) private readonly work: WorkNotice = UNSAMPLED_WORK,
    @inject(TYPES.Registry) registry: Registry = new Registry(),
    @inject(TYPES.Logger) logger: Logger = createLogger('warn'),
  ) {
    this.results$ = merge(...sources.map((source) => this.pipeline(source))).pipe(share());
    this.sinkFailures = new SinkFailures(registry, logger, this.sourceNames, options.secrets);
  }

  get sourceNames(): readonly string[] {
    return this.sources.map((source) => source.name);
  }

  /** Opens the sources' long-lived resources and feeds every result to every sink. */
  start(): void {
    if (this.running) return;
    this.election.start?.();
    for (const source of this.sources) source.start?.();
    this.running = this.results$.subscribe((result) => {
      this.sinks.forEach((sink, index) => {
        // A sink's own bug must not end the stream for the other sinks, nor go unseen.
        try {
          sink.apply(result);
          this.sinkFailures.applied(index, result.source);
        } catch (error) {
          this.sinkFailures.failed(index, sink, result.source, error);
        }
      });
    });
  }

  async stop(): Promise<void> {
    this.running?.unsubscribe();
    this.running = undefined;
    await Promise.allSettled([...this.sources.map((source) => source.stop?.()), this.election.stop?.()]);
  }

  private pipeline(source: MetricSource): Observable<CollectionResult> {
    const { intervalMs, timeoutMs } = this.options;
    const wholeShared = this.options.sharedSources?.has(source.name) ?? false;
    const sharedFamilies = new Set(source.metrics.filter((metric) => metric.shared).map((metric) => metric.name));
    // isLeader() is asked before and after each collection: a replica resumed after a freeze may
    // run a tick before the election's own timer has told it that its lease ended.
    const gate = (result: CollectionResult): CollectionResult => {
      if (this.election.isLeader()) return result;
      if (wholeShared) return this.standby(source);
      return result.ok && sharedFamilies.size > 0 ? { ...result, samples: result.samples.filter((sample) => !sharedFamilies.has(sample.name)) } : result;
    };
    const ticks = timer(0, intervalMs).pipe(
      exhaustMap(() => (wholeShared && !this.election.isLeader() ? of(this.standby(source)) : this.collectOnce(source, timeoutMs).pipe(map(gate)))),
    );
    if (!wholeShared && sharedFamilies.size === 0) return ticks;
    // A change of holder restarts the ticks: a new holder collects at once, a former one clears at once.
    // Like a tick, standing by is asynchronous: no sink hears of a source before the engine has started
    // (uWS crashes publishing to the live stream before it listens).
    const standingBy = timer(0).pipe(map(() => this.standby(source)));
    return this.election.leadership$.pipe(switchMap((leader) => (wholeShared && !leader ? standingBy : ticks)));
  }

  private standby(source: MetricSource): CollectionResult {
    return { source: source.name, timestamp: this.clock.epochMs(), durationSeconds: 0, ok: false, standby: true, error: 'standby: another replica holds the cluster election and collects this shared source' };
  }

  private collectOnce(source: MetricSource, timeoutMs: number): Observable<CollectionResult> {
    return defer(() => {
      // The event loop is sampled while a collection runs (and, its result being work, a little after).
      const release = this.work.holdWork();
      const startedMs = this.clock.monotonicMs();
      const finished = () => ({
        source: source.name,
        timestamp: this.clock.epochMs(),
        durationSeconds: (this.clock.monotonicMs() - startedMs) / 1000,
      });
      // The inner defer() turns a synchronous throw inside collect() into an error of this pipe.
      return defer(() => source.collect()).pipe(
        first(),
        timeout({ first: timeoutMs, with: () => throwError(() => new Error(`timed out after ${timeoutMs} ms`)) }),
        map((samples): CollectionResult => ({ ...finished(), ok: true, samples })),
        catchError((error: unknown) =>
          of<CollectionResult>({ ...finished(), ok: false, error: scrubSecrets(describeError(error), this.options.secrets ?? []) }),
        ),
        finalize(release),
      );
    });
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error && error.name === 'EmptyError') return 'collection completed without a snapshot';
  return errorText(error);
}
