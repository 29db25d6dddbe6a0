import type { Observable } from 'rxjs';
import type { CollectionResult } from './source';

export interface EngineOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /**
   * Strings never to let out of the engine (every form of the passwords and query values of the
   * configured URLs, from urlSecrets()): failure messages reach /health, the log and the live
   * stream, and drivers echo connection strings.
   */
  readonly secrets?: readonly string[];
  /** Sources that describe a target every replica shares: collected only while this replica holds the election. */
  readonly sharedSources?: ReadonlySet<string>;
}

/** Anything that consumes collection results: the registry, /health, the live stream. */
export interface CollectionSink {
  /** Must not throw; the engine isolates a sink that does anyway. */
  apply(result: CollectionResult): void;
}

/** What the service needs of the collection engine: collecting starts with the server and stops before it exits. */
export interface CollectionRunner {
  /** Every collection result, as the sinks receive it (hot while started). */
  readonly results$: Observable<CollectionResult>;
  /** Starts collecting every source on its interval, publishing each result to the sinks. */
  start(): void;
  /** Stops collecting and releases every source's resources. */
  stop(): Promise<void>;
}
