import type { WebSocketRoute } from './websocket-route';

/** An engine's WebSocket half, as its server drives it. */
export interface EngineWebSockets {
  register(route: WebSocketRoute): void;
  publish(topic: string, message: string): void;
  bufferedBytes(): number;
}

/**
 * What both engines' servers do alike with WebSockets: keep the routes added before listen(), and
 * publish through the engine's WebSocket half.
 */
export abstract class WebSocketHost<W extends EngineWebSockets> {
  private readonly webSocketRoutes: WebSocketRoute[] = [];
  protected abstract readonly webSockets: W;

  /** Adds a WebSocket endpoint; call before listen(). */
  addWebSocketRoute(route: WebSocketRoute): this {
    this.webSocketRoutes.push(route);
    return this;
  }

  publish(topic: string, message: string): void {
    this.webSockets.publish(topic, message);
  }

  bufferedBytes(): number {
    return this.webSockets.bufferedBytes();
  }

  /** Registers every WebSocket route with the engine; returns their paths, which the HTTP routes leave to them. */
  protected registerWebSocketRoutes(): string[] {
    for (const route of this.webSocketRoutes) this.webSockets.register(route);
    return this.webSocketRoutes.map(({ path }) => path);
  }
}
