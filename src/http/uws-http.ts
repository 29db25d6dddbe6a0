import type * as uws from 'uWebSockets.js';
import type { Logger } from '../logger';
import type { WorkNotice } from '../metrics/event-loop-lag';
import { methodLabel } from '../metrics/http-request-metrics';
import { Exchange } from './exchange';
import { declaredHeaders, type RoutePlan, type ServedRoute } from './route-plan';
import { type HttpRequest, parameterNames, type Route } from './route-table';
import { UwsResponse } from './uws-exchange';

/** The part of a route that says what to copy out of uWS's request. */
type RequestShape = Pick<Route, 'path' | 'headers' | 'readsPeerAddress'>;

/** The HTTP half of the uWS adapter: registers the RoutePlan, each request answered by an Exchange. */
export class UwsHttp {
  constructor(
    private readonly app: uws.TemplatedApp,
    private readonly logger: Logger,
    private readonly work: WorkNotice,
  ) {}

  register(plan: RoutePlan): void {
    for (const served of plan.served) this.registerRoute(served);
    this.app.any('/*', (res, req) => {
      this.work.noteWork();
      const method = methodLabel(req.getMethod());
      const { recorder, reply } = plan.unserved(req.getUrl());
      new Exchange(new UwsResponse(res), method, recorder, this.logger).answer(reply);
    });
  }

  private registerRoute({ method: served, route, recorder, handler }: ServedRoute): void {
    const read = requestReader(route);
    const handle = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
      this.work.noteWork();
      const method = methodLabel(req.getMethod());
      // uWS's request object is only valid until this callback returns: copy everything now.
      const request = read(res, req, method);
      new Exchange(new UwsResponse(res), method, recorder, this.logger).run(handler, request);
    };
    switch (served) {
      case 'GET': this.app.get(route.path, handle); break;
      case 'HEAD': this.app.head(route.path, handle); break;
      case 'POST': this.app.post(route.path, handle); break;
      case 'PUT': this.app.put(route.path, handle); break;
      case 'DELETE': this.app.del(route.path, handle); break;
      case 'PATCH': this.app.patch(route.path, handle); break;
      case 'OPTIONS': this.app.options(route.path, handle); break;
    }
  }
}

/** Copies what a route's handler reads out of uWS's request, which is only valid during its callback. */
export function requestReader(route: RequestShape): (res: uws.HttpResponse, req: uws.HttpRequest, method: string) => HttpRequest {
  const parameters = parameterNames(route.path);
  const headerNames: ReadonlySet<string> = new Set(route.headers ?? []);
  const peerAddress = route.readsPeerAddress === true;
  return (res, req, method) => {
    const params: Record<string, string> = {};
    parameters.forEach((name, index) => (params[name] = req.getParameter(index)));
    return {
      method,
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      params,
      headers: declaredHeaders(headerNames, (visit) => req.forEach(visit)),
      // getRemoteAddressAsText() allocates an ArrayBuffer per call: ~25 % of a small request's cost.
      remoteAddress: peerAddress ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
    };
  };
}
