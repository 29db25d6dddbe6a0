import { Counter, type Registry } from 'prom-client';
import { errorText } from '../src/error-text';
import type { Logger } from '../src/logger';
import { familyOwnersOf } from '../src/metrics/source-selection';
import { scrubSecrets } from '../src/redact';
import { ReportedOnce } from '../src/report-once';

const SINK_ERRORS = 'collector_sink_errors_total';

/**
 * What the engine does when a sink throws on a result (a sink's bug: sinks must not throw).
 * Every such result is counted in collector_sink_errors_total{source}; the exception is logged
 * once per sink and source, and again only after that sink has applied a result of that source
 * since, so a sink that fails at every collection does not flood the log.
 */
export class SinkFailures {
  private readonly reported = new ReportedOnce();
  private readonly errors: Counter<'source'>;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    sourceNames: readonly string[],
    private readonly secrets: readonly string[] = [],
  ) {
    this.errors = new Counter({ name: SINK_ERRORS, help: 'Collection results of the source that a sink failed to apply (a bug; the exception is logged)', labelNames: ['source'], registers: [registry] });
    familyOwnersOf(registry).ownBySourceLabel(SINK_ERRORS);
    // Exposed from the start, so rate() and alerts work before the first failure.
    for (const source of sourceNames) this.errors.inc({ source }, 0);
  }

  failed(sinkIndex: number, sink: object, source: string, error: unknown): void {
    this.errors.inc({ source });
    if (!this.reported.firstTime(keyOf(sinkIndex, source))) return;
    const message = scrubSecrets(errorText(error), this.secrets);
    this.logger.error(`sink ${sinkIndex} (${sink.constructor.name}) failed to apply a result of source ${source}: ${message} (logged once until it applies one again)`);
  }

  applied(sinkIndex: number, source: string): void {
    this.reported.forget(keyOf(sinkIndex, source));
  }
}

function keyOf(sinkIndex: number, source: string): string {
  return `${sinkIndex}\0${source}`;
}
