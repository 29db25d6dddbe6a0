import type { HttpReply, HttpRequest } from './route-table';

/**
 * How the reason of a connection the server ended over a protocol violation begins: uWS's own
 * wording ("Received too big message"), which the node:http engine follows.
 */
export const PROTOCOL_VIOLATION_PREFIX = 'Received ';

/** What a session may do with its connection; each engine's adapter implements it. */
export interface WebSocketClient {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Sends one text message. Callers check bufferedBytes() first: the adapter sends whatever it is given. */
  send(message: string): void;
  /** Bytes written but not yet taken by the client. */
  bufferedBytes(): number;
  /** Closes with a close frame carrying `code` and `reason`, for a client that reads. */
  close(code: number, reason: string): void;
  /**
   * Drops the connection at once, no close frame: what uWS and the kernel hold for it is freed,
   * where a graceful close would keep it queued behind a client that does not read.
   */
  terminate(): void;
}

/** One connected client's protocol state; created when the connection opens. */
export interface WebSocketSession {
  received(message: string, isBinary: boolean): void;
  /**
   * Asked for each subscriber before a publish reaches it, with the bytes it has waiting: false
   * leaves this client out of that message (the session may also close it).
   */
  admits(bufferedBytes: number): boolean;
  /**
   * The connection is gone, with the code and reason of the close frame, or 1006 and a reason
   * starting with PROTOCOL_VIOLATION_PREFIX when the server ended it over a protocol violation
   * (oversized or malformed frame); the client may no longer be used.
   */
  closed(code: number, reason: string): void;
}

/** The reply that accepts a WebSocket upgrade: `open` makes the session once the socket exists. */
export interface WebSocketUpgrade {
  readonly status: 101;
  /** The subprotocol selected, one the client offered (answered in Sec-WebSocket-Protocol); none when absent. */
  readonly protocol?: string;
  readonly open: (client: WebSocketClient) => WebSocketSession;
}

export interface WebSocketLimits {
  /** Largest message the server takes in; a larger one ends the connection at once. */
  readonly maxPayloadBytes: number;
  /** Bytes the server lets queue for a client before the engine itself discards messages (a safety net). */
  readonly maxBufferedBytes: number;
  /** Seconds without traffic after which a connection is closed; the server pings before that. */
  readonly idleTimeoutSeconds: number;
}

/** A WebSocket endpoint: `handler` answers the upgrade request with a refusal or an acceptance. */
export interface WebSocketRoute {
  readonly path: string;
  /** Request headers the handler reads; only these are copied out of the engine's request. */
  readonly headers?: readonly string[];
  /** The handler reads `remoteAddress` (see Route). */
  readonly readsPeerAddress?: boolean;
  readonly limits: WebSocketLimits;
  readonly handler: (request: HttpRequest) => HttpReply | WebSocketUpgrade;
}

export function isUpgrade(reply: HttpReply | WebSocketUpgrade): reply is WebSocketUpgrade {
  return reply.status === 101 && 'open' in reply;
}
