import { defer, map, NEVER, Observable, of, shareReplay, tap, throwError } from 'rxjs';
import type { Election } from '../../src/cluster/election';
import { TestScheduler } from 'rxjs/testing';
import type { Clock } from '../../src/clock';
import type { CollectionSink } from '../../src/collection';
import { CollectionEngine } from '../../streams/engine';
import type { CollectionResult, MetricSource, Sample } from '../../src/source';

/** A source whose n-th collection (0-based) is whatever `collections(n)` returns. */
function scriptedSource(name: string, collections: (n: number) => Observable<readonly Sample[]>): MetricSource {
  let n = 0;
  return { name, metrics: [], collect: () => defer(() => collections(n++)) };
}

const sample = (value: number): Sample[] => [{ name: 'x', value }];

/** Result stream rendered as marble values: 'ok:<value>' or 'fail:<message>'. */
function summarize(result: CollectionResult): string {
  return result.ok ? `${result.source} ok:${result.samples[0]?.value}` : `${result.source} fail:${result.error}`;
}

describe('CollectionEngine (marble)', () => {
  let scheduler: TestScheduler;
  let clock: Clock;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    clock = { epochMs: () => scheduler.now(), monotonicMs: () => scheduler.now() };
  });

  const engineOf = (sources: MetricSource[], intervalMs = 10, timeoutMs = 5) =>
    new CollectionEngine(sources, [], { intervalMs, timeoutMs }, clock);

  it('collects every source at once and then once per interval', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const system = scriptedSource('system', (n) => cold('-(a|)', { a: sample(n) }));
      const results = engineOf([system]).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 25ms !').toBe('-a 9ms b 9ms c', {
        a: 'system ok:0',
        b: 'system ok:1',
        c: 'system ok:2',
      });
    });
  });

  it('reports a failing source and keeps the others ticking', () => {
    scheduler.run(({ expectObservable }) => {
      const broken = scriptedSource('redis', () => throwError(() => new Error('ECONNREFUSED 127.0.0.1:6379')));
      const healthy = scriptedSource('app', (n) => of(sample(n)));
      const results = engineOf([broken, healthy]).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 15ms !').toBe('(ab) 6ms (cd)', {
        a: 'redis fail:ECONNREFUSED 127.0.0.1:6379',
        b: 'app ok:0',
        c: 'redis fail:ECONNREFUSED 127.0.0.1:6379',
        d: 'app ok:1',
      });
    });
  });

  it('turns a synchronous throw inside collect() into a failure of that source only', () => {
    scheduler.run(({ expectObservable }) => {
      const throwing: MetricSource = {
        name: 'system',
        metrics: [],
        collect: () => {
          throw new Error('cannot read /proc/stat');
        },
      };
      const results = engineOf([throwing, scriptedSource('app', () => of(sample(7)))]).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 5ms !').toBe('(ab)', {
        a: 'system fail:cannot read /proc/stat',
        b: 'app ok:7',
      });
    });
  });

  it('times out a hung source and collects it again on the next tick', () => {
    scheduler.run(({ expectObservable }) => {
      const hung = scriptedSource('database', (n) => (n === 0 ? NEVER : of(sample(n))));
      const results = engineOf([hung], 10, 4).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 15ms !').toBe('4ms a 5ms b', {
        a: 'database fail:timed out after 4 ms',
        b: 'database ok:1',
      });
    });
  });

  it('never overlaps a slow source with itself: ticks during a collection are skipped', () => {
    scheduler.run(({ expectObservable, cold }) => {
      let started = 0;
      // Each collection takes 25 ms against a 10 ms interval (timeout out of the way).
      const slow = scriptedSource('mqtt', (n) => {
        started++;
        return cold('25ms (a|)', { a: sample(n) });
      });
      const results = engineOf([slow], 10, 100).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 65ms !').toBe('25ms a 29ms b', {
        a: 'mqtt ok:0',
        b: 'mqtt ok:1',
      });
      scheduler.flush();
      // Collections start at 0, 30 and 60 ms; the ticks at 10, 20, 40 and 50 ms were skipped.
      expect(started).toBe(3);
    });
  });

  it('reports recovery: down while failing, up again with the next good collection', () => {
    scheduler.run(({ expectObservable }) => {
      const flaky = scriptedSource('redis', (n) => (n === 1 ? throwError(() => new Error('connection lost')) : of(sample(n))));
      const results = engineOf([flaky]).results$;
      expectObservable(results.pipe(summarizeAll()), '^ 25ms !').toBe('a 9ms b 9ms c', {
        a: 'redis ok:0',
        b: 'redis fail:connection lost',
        c: 'redis ok:2',
      });
    });
  });

  it('scrubs configured secrets out of failure messages', () => {
    scheduler.run(({ expectObservable }) => {
      const leaky = scriptedSource('database', () => throwError(() => new Error('password authentication failed for "s3cret" at postgres://u:s3cret@db')));
      const engine = new CollectionEngine([leaky], [], { intervalMs: 10, timeoutMs: 5, secrets: ['s3cret', ''] }, clock);
      expectObservable(engine.results$.pipe(summarizeAll()), '^ 5ms !').toBe('a', {
        a: 'database fail:password authentication failed for "***" at postgres://u:***@db',
      });
    });
  });

  it('treats a collection that completes without a snapshot as a failure', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const empty = scriptedSource('system', () => cold('-|'));
      expectObservable(engineOf([empty]).results$.pipe(summarizeAll()), '^ 5ms !').toBe('- a', {
        a: 'system fail:collection completed without a snapshot',
      });
    });
  });

  it('stamps each result with its duration and finish time', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const timed = scriptedSource('system', () => cold('3ms (a|)', { a: sample(1) }));
      const results = engineOf([timed]).results$;
      expectObservable(results, '^ 5ms !').toBe('3ms a', {
        a: { source: 'system', ok: true, samples: sample(1), timestamp: 3, durationSeconds: 0.003 },
      });
    });
  });

  it('feeds every sink, and a throwing sink does not starve the others', () => {
    const received: string[] = [];
    const throwing: CollectionSink = {
      apply: () => {
        throw new Error('sink bug');
      },
    };
    const recording: CollectionSink = { apply: (result) => received.push(summarize(result)) };
    scheduler.run(({ flush }) => {
      const engine = new CollectionEngine([scriptedSource('app', (n) => of(sample(n)))], [throwing, recording], { intervalMs: 10, timeoutMs: 5 }, clock);
      engine.start();
      scheduler.schedule(() => void engine.stop(), 25);
      flush();
    });
    expect(received).toEqual(['app ok:0', 'app ok:1', 'app ok:2']);
  });
});

describe('CollectionEngine with a cluster election (issue 14, marble)', () => {
  let scheduler: TestScheduler;
  let clock: Clock;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    clock = { epochMs: () => scheduler.now(), monotonicMs: () => scheduler.now() };
  });

  /** An election whose holder changes as the marble says ('y' holds, 'n' does not). */
  function scriptedElection(marble: string, cold: (marble: string, values: Record<string, boolean>) => Observable<boolean>): Election {
    let leading = false;
    const leadership$ = cold(marble, { y: true, n: false }).pipe(tap((value) => (leading = value)), shareReplay(1));
    return { isLeader: () => leading, leadership$ };
  }

  const withStandby = (result: CollectionResult) =>
    result.ok ? `${result.source} ok:${result.samples.map((s) => s.name).join('+')}` : `${result.source} ${result.standby ? 'standby' : 'fail'}`;

  it('collects a shared source only while holding, at once on taking over, and stands by at once on losing', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const database = scriptedSource('database', () => of([{ name: 'db', value: 1 }]));
      const election = scriptedElection('n 14ms y 14ms n', cold);
      const engine = new CollectionEngine([database], [], { intervalMs: 10, timeoutMs: 5, sharedSources: new Set(['database']) }, clock, election);
      expectObservable(engine.results$.pipe(map(withStandby)), '^ 40ms !').toBe('a 14ms b 9ms b 4ms a', {
        a: 'database standby',
        b: 'database ok:db',
      });
    });
  });

  it('leaves the shared families out of a partly shared source while another replica holds', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const mqtt: MetricSource = {
        name: 'mqtt',
        metrics: [{ name: 'broker', help: '', type: 'gauge', shared: true }, { name: 'telemetry', help: '', type: 'counter' }],
        collect: () => of([{ name: 'broker', value: 1 }, { name: 'telemetry', value: 2 }]),
      };
      const election = scriptedElection('n 14ms y', cold);
      const engine = new CollectionEngine([mqtt], [], { intervalMs: 10, timeoutMs: 5, sharedSources: new Set() }, clock, election);
      expectObservable(engine.results$.pipe(map(withStandby)), '^ 25ms !').toBe('a 9ms a 4ms b 9ms b', {
        a: 'mqtt ok:telemetry',
        b: 'mqtt ok:broker+telemetry',
      });
    });
  });

  it('asks the election again before a tick: a resumed holder whose lease ended collects nothing', () => {
    scheduler.run(({ expectObservable, cold }) => {
      let collections = 0;
      const database = scriptedSource('database', () => (collections++, of([{ name: 'db', value: 1 }])));
      let leaseValid = true;
      const election: Election = { isLeader: () => leaseValid, leadership$: cold('y') };
      const engine = new CollectionEngine([database], [], { intervalMs: 10, timeoutMs: 5, sharedSources: new Set(['database']) }, clock, election);
      // The lease ends at 5 ms; the election has not said so yet when the tick of 10 ms comes.
      scheduler.schedule(() => (leaseValid = false), 5);
      expectObservable(engine.results$.pipe(map(withStandby)), '^ 15ms !').toBe('b 9ms a', { a: 'database standby', b: 'database ok:db' });
      scheduler.schedule(() => expect(collections).toBe(1), 15);
    });
  });
});

function summarizeAll() {
  return (results: Observable<CollectionResult>) =>
    new Observable<string>((subscriber) => results.subscribe({ next: (r) => subscriber.next(summarize(r)), error: (e) => subscriber.error(e) }));
}
