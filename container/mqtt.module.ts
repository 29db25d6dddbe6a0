import { ContainerModule } from 'inversify';
import type { Config } from '../src/config';
import { MqttSource } from '../streams/mqtt';
import { TYPES } from './identifiers';

/** Source `mqtt`: the broker's $SYS tree and the telemetry filter, over one long-lived client. */
export function mqttModule(config: Config): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (config.sources.has('mqtt')) bind(TYPES.MetricSource).to(MqttSource).inSingletonScope();
  });
}
