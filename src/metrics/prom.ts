import type * as Prom from 'prom-client';

/**
 * prom-client's classes, loaded without its index: the service's code takes them from here, never
 * from 'prom-client' itself (types excepted). The index also loads the Pushgateway, and through it
 * Node's `http`, `https`, `zlib` and `url`, which nothing else in a uWebSockets.js process needs,
 * the cluster aggregator and the Summary (README, Footprint: with mqtt.js's unused transports,
 * 1.5 MB of RSS on Node 24). The
 * classes are the index's own (same files), so registries and metrics mix with code that imports
 * 'prom-client'.
 */
export const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
export type Registry<T extends Prom.RegistryContentType = Prom.PrometheusContentType> = Prom.Registry<T>;
export const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = require('prom-client/lib/histogram') as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics;
