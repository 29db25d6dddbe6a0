import WebSocket from 'ws';

/** A /stream client that queues what it receives, so a test can await messages in order. */
export interface StreamClient {
  readonly socket: WebSocket;
  /** The next message not yet taken, parsed; rejects after `timeoutMs` or when the socket closes first. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Messages received and not yet taken. */
  readonly pending: Array<Record<string, unknown>>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export type StreamOptions = WebSocket.ClientOptions & { scheme?: 'ws' | 'wss' };

/** Opens ws://127.0.0.1:port/stream?query; resolves once open, rejects with the HTTP status of a refused upgrade. */
export function openStream(port: number, query = '', options: StreamOptions = {}): Promise<StreamClient> {
  const { scheme = 'ws', ...clientOptions } = options;
  const socket = new WebSocket(`${scheme}://127.0.0.1:${port}/stream${query ? `?${query}` : ''}`, clientOptions);
  const pending: Array<Record<string, unknown>> = [];
  const waiters: Array<(message: Record<string, unknown>) => void> = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else pending.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const next = (timeoutMs = 10_000) => {
    const queued = pending.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stream message within ${timeoutMs} ms`)), timeoutMs);
      const waiter = (message: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(message);
      };
      waiters.push(waiter);
      void closed.then(({ code }) => {
        clearTimeout(timer);
        if (waiters.includes(waiter)) reject(new Error(`stream closed (${code}) before a message came`));
      });
    });
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, next, pending, closed }));
    socket.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`upgrade refused with ${response.statusCode}`), { status: response.statusCode, headers: response.headers }));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/** Takes messages until one satisfies `wanted`; the ones before it are returned too. */
export async function nextMatching(client: StreamClient, wanted: (message: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  for (;;) {
    const message = await client.next(timeoutMs);
    seen.push(message);
    if (wanted(message)) return seen;
  }
}
