import type { ServiceIdentifier } from 'inversify';
import type { Registry } from 'prom-client';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Clock } from './clock';
import type { MetricSource } from './source';
import type { CollectionRunner, CollectionSink, EngineOptions } from './collection';
import type { HttpRequestMetrics } from './metrics/http-request-metrics';
import type { RouteTable } from './http/route-table';
import type { HealthState } from './health';
import type { HttpServer } from './http/http-server';
import type { AccessGuard } from './http/access-control';
import type { LiveMetrics } from './live/live-metrics';
import type { LivePublisher, LiveTransport } from './live/publisher';
import type { DatabasePool } from './db/database-pool';
import type { Election } from './cluster/election';
import type { WorkNotice } from './metrics/event-loop-lag';
import type { LoadedEngine } from './http/http-engines';

/** Typed service identifiers: one symbol per service, so a wrong binding fails to compile. */
export const TYPES = {
  Config: Symbol.for('Config') as ServiceIdentifier<Config>,
  Logger: Symbol.for('Logger') as ServiceIdentifier<Logger>,
  Clock: Symbol.for('Clock') as ServiceIdentifier<Clock>,
  Registry: Symbol.for('Registry') as ServiceIdentifier<Registry>,
  MetricSource: Symbol.for('MetricSource') as ServiceIdentifier<MetricSource>,
  /** Every source the service knows (the source table's names), enabled or not. */
  SourceNames: Symbol.for('SourceNames') as ServiceIdentifier<readonly string[]>,
  CollectionSink: Symbol.for('CollectionSink') as ServiceIdentifier<CollectionSink>,
  CollectionEngine: Symbol.for('CollectionEngine') as ServiceIdentifier<CollectionRunner>,
  EngineOptions: Symbol.for('EngineOptions') as ServiceIdentifier<EngineOptions>,
  HealthState: Symbol.for('HealthState') as ServiceIdentifier<HealthState>,
  HttpRequestMetrics: Symbol.for('HttpRequestMetrics') as ServiceIdentifier<HttpRequestMetrics>,
  RouteTable: Symbol.for('RouteTable') as ServiceIdentifier<RouteTable>,
  HttpServer: Symbol.for('HttpServer') as ServiceIdentifier<HttpServer>,
  HttpEngine: Symbol.for('HttpEngine') as ServiceIdentifier<LoadedEngine>,
  AccessGuard: Symbol.for('AccessGuard') as ServiceIdentifier<AccessGuard>,
  LiveTransport: Symbol.for('LiveTransport') as ServiceIdentifier<LiveTransport>,
  LivePublisher: Symbol.for('LivePublisher') as ServiceIdentifier<LivePublisher>,
  LiveMetrics: Symbol.for('LiveMetrics') as ServiceIdentifier<LiveMetrics>,
  DatabasePool: Symbol.for('DatabasePool') as ServiceIdentifier<DatabasePool>,
  Election: Symbol.for('Election') as ServiceIdentifier<Election>,
  WorkNotice: Symbol.for('WorkNotice') as ServiceIdentifier<WorkNotice>,
} as const;
