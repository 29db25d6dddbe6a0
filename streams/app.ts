import { inject, injectable } from 'inversify';
import { defer, of, type Observable } from '../src/rx';
import { TYPES } from '../src/tokens';
import type { Clock } from '../src/clock';
import { VERSION } from '../src/version';
import type { MetricDescriptor, MetricSource, Sample } from '../src/source';

/** `app_info`, uptime and start time of this process. */
@injectable()
export class AppSource implements MetricSource {
  readonly name = 'app';
  readonly metrics: readonly MetricDescriptor[] = [
    { name: 'app_info', help: 'Version and runtime of this service; always 1', type: 'gauge', labelNames: ['version', 'runtime', 'runtime_version'] },
    { name: 'app_uptime_seconds', help: 'Seconds since this service started', type: 'gauge' },
    { name: 'app_start_time_seconds', help: 'Unix time at which this service started', type: 'gauge' },
  ];
  private readonly startedMs: number;

  constructor(@inject(TYPES.Clock) private readonly clock: Clock) {
    this.startedMs = clock.epochMs();
  }

  collect(): Observable<readonly Sample[]> {
    return defer(() => of(appSamples(this.startedMs, this.clock.epochMs())));
  }
}

export function appSamples(startedMs: number, nowMs: number): Sample[] {
  return [
    { name: 'app_info', labels: { version: VERSION, runtime: 'nodejs', runtime_version: process.versions.node }, value: 1 },
    { name: 'app_uptime_seconds', value: (nowMs - startedMs) / 1000 },
    { name: 'app_start_time_seconds', value: startedMs / 1000 },
  ];
}
