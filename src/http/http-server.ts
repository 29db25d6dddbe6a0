import type { WebSocketRoute } from './websocket-route';

/**
 * What the service and the live publisher need of the HTTP server: its HTTP routes come from the
 * RouteTable, its WebSocket routes are added here, and messages are published to subscribed
 * WebSockets by topic. UwsServer implements it over uWebSockets.js.
 */
export interface HttpServer {
  /** Adds a WebSocket endpoint; call before listen(). */
  addWebSocketRoute(route: WebSocketRoute): this;
  /** Registers the routes and listens; resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting connections and closes every open one; WebSocket clients get a close frame first. */
  close(): void;
  /** Queues `message` for every WebSocket subscribed to `topic` whose session admits it. */
  publish(topic: string, message: string): void;
  /** Bytes written to WebSockets and not yet taken by them, summed over clients. */
  bufferedBytes(): number;
}
