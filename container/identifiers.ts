import type { ServiceIdentifier } from 'inversify';
import type { Registry } from 'prom-client';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import type { Clock } from '../src/clock';
import type { MetricSource } from '../streams/source';
import type { CollectionEngine, CollectionSink, EngineOptions } from '../streams/engine';
import type { HttpRequestMetrics } from '../src/metrics/http-request-metrics';
import type { RouteTable } from '../src/http/route-table';
import type { HealthState } from '../src/health';
import type { HttpServer } from '../src/http/http-server';
import type { AccessGuard } from '../src/http/access-control';
import type { LiveMetrics } from '../src/live/live-metrics';
import type { LivePublisher, LiveTransport } from '../src/live/publisher';
import type { DatabasePool } from '../src/db/database-pool';
import type { Election } from '../src/cluster/election';
import type { WorkNotice } from '../src/metrics/event-loop-lag';
import type { QueriesFileState } from '../streams/database/queries/queries-file-state';

/** Typed service identifiers: one symbol per service, so a wrong binding fails to compile. */
export const TYPES = {
  Config: Symbol.for('Config') as ServiceIdentifier<Config>,
  Logger: Symbol.for('Logger') as ServiceIdentifier<Logger>,
  Clock: Symbol.for('Clock') as ServiceIdentifier<Clock>,
  Registry: Symbol.for('Registry') as ServiceIdentifier<Registry>,
  MetricSource: Symbol.for('MetricSource') as ServiceIdentifier<MetricSource>,
  CollectionSink: Symbol.for('CollectionSink') as ServiceIdentifier<CollectionSink>,
  CollectionEngine: Symbol.for('CollectionEngine') as ServiceIdentifier<CollectionEngine>,
  EngineOptions: Symbol.for('EngineOptions') as ServiceIdentifier<EngineOptions>,
  HealthState: Symbol.for('HealthState') as ServiceIdentifier<HealthState>,
  HttpRequestMetrics: Symbol.for('HttpRequestMetrics') as ServiceIdentifier<HttpRequestMetrics>,
  RouteTable: Symbol.for('RouteTable') as ServiceIdentifier<RouteTable>,
  HttpServer: Symbol.for('HttpServer') as ServiceIdentifier<HttpServer>,
  AccessGuard: Symbol.for('AccessGuard') as ServiceIdentifier<AccessGuard>,
  LiveTransport: Symbol.for('LiveTransport') as ServiceIdentifier<LiveTransport>,
  LivePublisher: Symbol.for('LivePublisher') as ServiceIdentifier<LivePublisher>,
  LiveMetrics: Symbol.for('LiveMetrics') as ServiceIdentifier<LiveMetrics>,
  DatabasePool: Symbol.for('DatabasePool') as ServiceIdentifier<DatabasePool>,
  Election: Symbol.for('Election') as ServiceIdentifier<Election>,
  WorkNotice: Symbol.for('WorkNotice') as ServiceIdentifier<WorkNotice>,
  QueriesFile: Symbol.for('QueriesFile') as ServiceIdentifier<QueriesFileState>,
} as const;
