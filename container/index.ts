// The lite build (ES2015+, no Map/WeakMap shims), the one inversify loads itself: the full one would be a second copy.
import 'reflect-metadata/lite';
import { Container } from 'inversify';
import type { Logger } from '../src/logger';
import type { ServiceConfig } from '../streams/config';
import { coreModule } from './core.module';
import { httpModule } from './http.module';
import { sourcesModule } from './sources.module';
import { liveModule } from './live.module';

/** Builds the container: every area's module, loaded here and nowhere else. */
export function createContainer(config: ServiceConfig, logger?: Logger): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.loadSync(coreModule(config, logger), httpModule, sourcesModule(config), liveModule);
  return container;
}
