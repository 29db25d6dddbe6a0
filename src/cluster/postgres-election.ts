import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { inject, injectable } from 'inversify';
import { Client } from '../db/pg';
import { Gauge, type Registry } from 'prom-client';
import { BehaviorSubject, distinctUntilChanged, type Observable } from '../rx';
import { TYPES } from '../tokens';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { describeDatabaseError } from '../db/database-pool';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import type { Election } from './election';

/** The advisory lock (two-int4 form, so pg_locks shows it as classid/objid): "iotf", 14. */
const LOCK_CLASS = 0x696f7466;
const LOCK_OBJECT = 14;
/** A holder trusts its lease for this share of it after a renewal began: the server's clock may run a little faster. */
const LEASE_TRUST = 0.8;
/** Renewals (and a standby's attempts) per lease. */
const ROUNDS_PER_LEASE = 3;
/**
 * Leases after which an election that cannot reach its database stops standing by: no replica can
 * hold it then, and standing by would hide the shared sources' outage (they fail here instead).
 */
const UNREACHABLE_LEASES = 2;

/**
 * Election through a PostgreSQL advisory lock held by a session of its own, made a lease by
 * `idle_session_timeout` (PostgreSQL 14+): the server ends the session, and so frees the lock,
 * when the holder has sent nothing for one lease (one collection interval). The holder renews by
 * checking every third of a lease that its session still holds the lock; standbys try
 * pg_try_advisory_lock as often.
 *
 * - Killed holder: its socket closes, the server frees the lock at once; a standby takes it at its
 *   next attempt (≤ a third of an interval).
 * - Frozen or cut-off holder: its session goes idle, the server ends it after one lease, a standby
 *   takes the lock within a third more. The holder itself stopped trusting its lease at
 *   0.8 of a lease after its last renewal began, by its monotonic clock, before the server ended
 *   the session: on resume it knows at once that it no longer holds, without asking.
 * - Stepping down always ends the session, so the lock is never held by a replica that does not
 *   think it holds it.
 * - Database unreachable for two leases: every replica collects the shared sources itself, so
 *   their failure shows (collector_up 0) instead of every replica standing by; the first round
 *   that reaches the database again ends it.
 */
@injectable()
export class PostgresElection implements Election {
  private readonly leading = new BehaviorSubject(false);
  readonly leadership$: Observable<boolean> = this.leading.pipe(distinctUntilChanged());
  private readonly leaseMs: number;
  private readonly roundMs: number;
  private readonly identity = `${os.hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private readonly leaderGauge: Gauge;
  private client: Client | undefined;
  private trustedUntilMs = -Infinity;
  private nextRound: NodeJS.Timeout | undefined;
  private leaseEnd: NodeJS.Timeout | undefined;
  private running = false;
  private lastProblem: string | undefined;
  /** When the rounds began failing without a break; undefined while they reach the database. */
  private failingSinceMs: number | undefined;
  /** Collecting the shared sources because no replica can hold the election (see UNREACHABLE_LEASES). */
  private unelected = false;

  constructor(
    @inject(TYPES.Config) private readonly config: Config,
    @inject(TYPES.Logger) private readonly logger: Logger,
    @inject(TYPES.Clock) private readonly clock: Clock,
    @inject(TYPES.Registry) registry: Registry,
    @inject(TYPES.WorkNotice) private readonly work: WorkNotice,
  ) {
    this.leaseMs = config.collectionIntervalSeconds * 1000;
    this.roundMs = this.leaseMs / ROUNDS_PER_LEASE;
    this.leaderGauge = new Gauge({ name: 'cluster_leader', help: '1 while this replica holds the election and collects the shared sources, else 0', registers: [registry] });
    this.leaderGauge.set(0);
  }

  isLeader(): boolean {
    return this.unelected || (this.leading.value && this.clock.monotonicMs() < this.trustedUntilMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.round();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.nextRound);
    // Ending the session frees the lock now: a standby takes over at its next attempt.
    await this.stepDown('shutting down');
  }

  private async round(): Promise<void> {
    const startedMs = this.clock.monotonicMs();
    const release = this.work.holdWork();
    try {
      const client = this.client ?? (await this.connect());
      const holds = this.leading.value ? await this.stillHolds(client) : await this.tryLock(client);
      // Stopped while the query ran: stop() has stepped down, and nothing may hold again.
      if (!this.running) return;
      this.failingSinceMs = undefined;
      this.unelected = false;
      if (holds) this.renewed(startedMs);
      else if (this.leading.value) void this.stepDown('its session no longer holds the lock');
      this.lastProblem = undefined;
    } catch (error) {
      const problem = describeDatabaseError(error, this.config.databaseUrl);
      this.failingSinceMs ??= startedMs;
      if (this.clock.monotonicMs() - this.failingSinceMs >= UNREACHABLE_LEASES * this.leaseMs) this.collectUnelected(problem);
      else void this.stepDown(problem);
      if (problem !== this.lastProblem) this.logger.warn(`cluster election: ${problem}; retrying every ${Math.round(this.roundMs)} ms`);
      this.lastProblem = problem;
    } finally {
      release();
    }
    if (this.running) this.nextRound = setTimeout(() => void this.round(), this.roundMs);
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.config.databaseUrl,
      application_name: 'iotflow-metrics-election',
      connectionTimeoutMillis: Math.ceil(this.roundMs),
      query_timeout: Math.ceil(this.roundMs),
      keepAlive: true,
    });
    // A broken session has lost its lock: stop holding at once.
    client.on('error', () => {
      if (this.client === client) void this.stepDown('its database session broke');
    });
    this.client = client;
    // A failure here reaches round(), which steps down and so ends this client.
    await client.connect();
    await client.query(`SET idle_session_timeout = ${Math.ceil(this.leaseMs)}`);
    return client;
  }

  private async tryLock(client: Client): Promise<boolean> {
    const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, LOCK_OBJECT]);
    return result.rows[0]?.locked === true;
  }

  /** Resets the session's idle timer, and tells whether the lock is still this session's. */
  private async stillHolds(client: Client): Promise<boolean> {
    const result = await client.query<{ holds: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                        AND classid = $1::oid AND objid = $2::oid AND objsubid = 2) AS holds`,
      [LOCK_CLASS, LOCK_OBJECT],
    );
    return result.rows[0]?.holds === true;
  }

  private renewed(startedMs: number): void {
    this.trustedUntilMs = startedMs + this.leaseMs * LEASE_TRUST;
    clearTimeout(this.leaseEnd);
    // No renewal in time (a hung query, a frozen process): stop holding when the trust ends.
    this.leaseEnd = setTimeout(() => {
      if (!this.isLeader()) void this.stepDown('its lease ran out before a renewal');
    }, Math.max(0, this.trustedUntilMs - this.clock.monotonicMs()));
    if (!this.leading.value) {
      this.logger.info(`cluster election: ${this.identity} now holds the election and collects the shared sources`);
      this.leaderGauge.set(1);
      this.leading.next(true);
    }
  }

  private collectUnelected(problem: string): void {
    clearTimeout(this.leaseEnd);
    this.trustedUntilMs = -Infinity;
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
    if (this.unelected) return;
    this.unelected = true;
    this.logger.warn(`cluster election: no answer from the database for ${UNREACHABLE_LEASES} intervals (${problem}); collecting the shared sources here until it answers`);
    this.leaderGauge.set(1);
    if (!this.leading.value) this.leading.next(true);
  }

  private async stepDown(reason: string): Promise<void> {
    this.unelected = false;
    clearTimeout(this.leaseEnd);
    this.trustedUntilMs = -Infinity;
    if (this.leading.value) {
      this.logger.warn(`cluster election: ${this.identity} no longer holds the election (${reason})`);
      this.leaderGauge.set(0);
      this.leading.next(false);
    }
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
