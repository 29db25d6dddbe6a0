import { ContainerModule } from 'inversify';
import { logEngineChoice, registerEngineInfo } from '../src/http/engine-info';
import { chooseEngine } from '../src/http/http-engines';
import { RouteTable } from '../src/http/route-table';
import { UwsServer } from '../src/http/uws-server';
import { HttpRequestMetrics } from '../src/metrics/http-request-metrics';
import { TYPES } from '../src/tokens';

/** The HTTP server on the engine chosen at start, its route table and the request metrics it records. */
export const httpModule = new ContainerModule(({ bind }) => {
  bind(TYPES.HttpRequestMetrics).to(HttpRequestMetrics).inSingletonScope();
  bind(TYPES.RouteTable).to(RouteTable).inSingletonScope();
  bind(TYPES.HttpEngine)
    .toDynamicValue(({ get }) => {
      const choice = chooseEngine(get(TYPES.Config).httpEngine);
      logEngineChoice(get(TYPES.Logger), choice);
      registerEngineInfo(get(TYPES.Registry), choice.engine);
      return choice.engine;
    })
    .inSingletonScope();
  bind(TYPES.HttpServer)
    .toDynamicValue(({ get }) => {
      const engine = get(TYPES.HttpEngine);
      const parts = [get(TYPES.RouteTable), get(TYPES.HttpRequestMetrics), get(TYPES.Config), get(TYPES.Logger), get(TYPES.WorkNotice)] as const;
      if (engine.uws) return new UwsServer(engine.uws, ...parts);
      // Loaded only for this engine: node:http, node:https and ws stay out of a uWS process.
      const { NodeHttpServer } = require('../src/http/node-http-server') as typeof import('../src/http/node-http-server');
      return new NodeHttpServer(...parts);
    })
    .inSingletonScope();
});
