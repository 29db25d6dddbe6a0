import { inject, injectable, multiInject } from 'inversify';
import { TYPES } from './tokens';
import type { Logger } from './logger';
import type { CollectionSink } from './collection';
import type { CollectionResult, MetricSource } from './source';

export interface SourceHealth {
  up: boolean;
  /** ISO time of the last successful collection, or null before the first one. */
  lastSuccess: string | null;
  /** Why the source is down; absent while it is up. Already free of secrets. */
  error?: string;
  /** A shared source another replica collects (cluster election): not collected here, not down. */
  standby?: true;
}

export interface HealthReport {
  /** `ok` when every source is up, `degraded` otherwise. The exporter itself is alive either way. */
  status: 'ok' | 'degraded';
  sources: Record<string, SourceHealth>;
}

/**
 * Per-source state for /health, and the one place that logs a source going down or coming back:
 * one line per change, none per tick.
 */
@injectable()
export class HealthState implements CollectionSink {
  private readonly sources = new Map<string, SourceHealth>();
  private readonly seen = new Set<string>();

  constructor(
    @multiInject(TYPES.MetricSource) sources: readonly MetricSource[],
    @inject(TYPES.Logger) private readonly logger: Logger,
  ) {
    for (const source of sources) this.sources.set(source.name, { up: false, lastSuccess: null, error: 'not collected yet' });
  }

  apply(result: CollectionResult): void {
    const previous = this.sources.get(result.source);
    if (!previous) return;
    const first = !this.seen.has(result.source);
    this.seen.add(result.source);
    if (!result.ok && result.standby) {
      this.sources.set(result.source, { up: false, standby: true, lastSuccess: previous.lastSuccess, error: result.error });
    } else if (result.ok) {
      if (!previous.up && !previous.standby && !first) this.logger.info(`source ${result.source} recovered`);
      this.sources.set(result.source, { up: true, lastSuccess: new Date(result.timestamp).toISOString() });
    } else {
      if (previous.up || previous.standby || first) this.logger.warn(`source ${result.source} is down: ${result.error}`);
      this.sources.set(result.source, { up: false, lastSuccess: previous.lastSuccess, error: result.error });
    }
  }

  report(): HealthReport {
    const sources = Object.fromEntries(this.sources);
    const status = [...this.sources.values()].every((source) => source.up || source.standby) ? 'ok' : 'degraded';
    return { status, sources };
  }
}
