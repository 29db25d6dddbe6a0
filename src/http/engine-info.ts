import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { EngineChoice, LoadedEngine } from './http-engines';

/** `http_server_info{engine,version} 1`: which HTTP engine serves, as app_info names the runtime. */
export function registerEngineInfo(registry: Registry, engine: LoadedEngine): void {
  const info = new Gauge({ name: 'http_server_info', help: 'HTTP engine serving this exporter and its version; always 1', labelNames: ['engine', 'version'], registers: [registry] });
  info.set({ engine: engine.name, version: engine.version }, 1);
}

/** One start line: the engine that serves, and why each better one did not load. */
export function logEngineChoice(logger: Logger, { engine, passedOver }: EngineChoice): void {
  const why = passedOver.length === 0 ? '' : ` (${passedOver.join('; ')})`;
  logger.info(`HTTP engine: ${engine.description} [HTTP_ENGINE ${engine.name}]${why}`);
}
