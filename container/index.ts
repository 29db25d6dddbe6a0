import 'reflect-metadata';
import { Container } from 'inversify';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { appModule } from './app.module';
import { coreModule } from './core.module';
import { databaseModule } from './database.module';
import { httpModule } from './http.module';
import { mqttModule } from './mqtt.module';
import { systemModule } from './system.module';
import { redisModule } from './redis.module';
import { streamModule } from './stream.module';

/** Builds the container: every area's module, loaded here and nowhere else. */
export function createContainer(config: Config, logger?: Logger): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.loadSync(coreModule(config, logger), httpModule, appModule(config), systemModule(config), redisModule(config), databaseModule(config), mqttModule(config), streamModule);
  return container;
}
