// What the access-control and HTTP-input test files share: raw HTTP exchanges, and a service of the
// app source per engine.
import net from 'node:net';
import { metricValue } from './metrics';
import { serviceOn, type RunningService } from './service';
import type { HttpEngineName } from '../../src/http/http-engines';

/** Read in-process: a refused client cannot scrape, and a scrape would count itself. */
export const requestCount = async (service: RunningService, endpoint: string, status: string, method = 'GET') =>
  (await metricValue(service, 'http_requests_total', { method, endpoint, status })) ?? 0;

/**
 * One raw HTTP/1.1 exchange, for what fetch will not send (repeated headers, odd methods, garbage):
 * what came back before the server closed the connection ('' if nothing; a reset counts as closing).
 */
export function rawRequest(port: number, text: string, { endAfterHeaders = false } = {}): Promise<string> {
  return new Promise((resolve) => {
    // Written, not ended: uWS takes a half-closed connection for a client that left.
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      // An upgraded connection stays open: its response ends with the headers.
      if (endAfterHeaders && answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', () => undefined);
  });
}

export const statusOf = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? NaN);

/** Runs `body` with a service of the `app` source on `engine` (no rate limit unless `env` sets one), stopped afterwards. */
export function withAppServiceOn(engine: HttpEngineName) {
  const start = serviceOn(engine);
  return async (env: Record<string, string>, body: (service: RunningService) => Promise<void>): Promise<void> => {
    const service = await start({ SOURCES: 'app', METRICS_RATE_LIMIT: '0', ...env });
    try {
      await body(service);
    } finally {
      await service.stop();
    }
  };
}
