import type { Observable } from 'rxjs';

/** Label name → value. Values are strings, as in the exposition format. */
export type Labels = Readonly<Record<string, string>>;

/** One series value of one collection. */
export interface Sample {
  readonly name: string;
  readonly labels?: Labels;
  readonly value: number;
  /** The sample's own name when it differs from the family's: a histogram's `_bucket` (with `le`), `_sum` and `_count`. */
  readonly metricName?: string;
}

/**
 * Snapshot types a source may emit. Histograms are request-time instruments, except the ones a
 * queries file reads ready-made from SQL (bucket counts, sum and count per row).
 */
export type SampleType = 'gauge' | 'counter' | 'histogram';

/** The static description of one metric family a source owns. */
export interface MetricDescriptor {
  readonly name: string;
  readonly help: string;
  readonly type: SampleType;
  readonly labelNames?: readonly string[];
  /**
   * Value shown while the source is down. Absent (the norm): the family leaves `/metrics` until
   * the source recovers, so Prometheus marks it stale. Only `redis_status` sets it.
   */
  readonly valueWhileDown?: number;
  /**
   * Describes a target every replica shares (the broker's statistics): with `CLUSTER_ELECTION`, only
   * the elected replica shows it. A whole shared source is marked in the source table instead.
   */
  readonly shared?: true;
  /**
   * Values are exposed as the source reports them, NaN and falling counters included: the
   * families of a queries file, which mirror postgres_exporter's (a NULL is NaN there).
   */
  readonly asReported?: true;
}

/**
 * A source of metrics, polled by the engine once per tick.
 *
 * `collect()` is cold: nothing happens until the engine subscribes, and each subscription is one
 * collection. It emits one snapshot of every series the source currently has, then completes;
 * an error means the collection failed. A push-driven source (MQTT) keeps its own connection
 * between `start()` and `stop()`, and its `collect()` returns the latest state it has seen, or
 * errors when that state is stale.
 */
export interface MetricSource {
  /** Stable name used as the `source` label and in `SOURCES`. */
  readonly name: string;
  /**
   * The families the source reports. A source whose families change (the database source after a
   * queries file is reloaded) returns a new array; sinks compare it by identity after each collection.
   */
  readonly metrics: readonly MetricDescriptor[];
  collect(): Observable<readonly Sample[]>;
  /** Opens long-lived resources (connections, subscriptions). Must not throw for an absent service. */
  start?(): void;
  /** Releases everything `start()` or `collect()` opened. */
  stop?(): Promise<void>;
}

/** What one collection of one source produced, as the engine publishes it to sinks. */
export type CollectionResult = CollectionSuccess | CollectionFailure;

interface CollectionOutcome {
  readonly source: string;
  /** Unix time in milliseconds at which the collection finished. */
  readonly timestamp: number;
  readonly durationSeconds: number;
}

export interface CollectionSuccess extends CollectionOutcome {
  readonly ok: true;
  readonly samples: readonly Sample[];
}

export interface CollectionFailure extends CollectionOutcome {
  readonly ok: false;
  /** Message safe to expose: no credentials (sources redact before throwing). */
  readonly error: string;
  /**
   * Not a failure: the source is shared and another replica holds the election, so nothing was
   * collected and nothing is shown (no series, no collector_up); /health lists it as standby.
   */
  readonly standby?: true;
}
