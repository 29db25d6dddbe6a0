/**
 * `node dist/bench/clients/stream-listeners.js <port> <clients>`: a process of /stream clients for
 * the stream suite. Connects them (100 at a time), prints `connected`, then notes for every
 * message (one per source per collection) how many clients received it and when the last one
 * did. On the line `report` on stdin it prints `report <json>` and exits.
 *
 * Clients read only the message's head (source and timestamp) and skip UTF-8 validation: what
 * is timed is the server's fan-out, not JSON parsing in a thousand client objects.
 */
import WebSocket from 'ws';

export interface ListenerReport {
  /** [source, timestamp of the collection, clients that received it, ms epoch when the last did]. */
  readonly messages: ReadonlyArray<readonly [string, number, number, number]>;
}

const HEAD = /^\{"source":"([^"]+)","timestamp":(\d+)/;
const BATCH = 100;

const [port, count] = process.argv.slice(2).map(Number) as [number, number];
const received = new Map<string, { source: string; timestamp: number; clients: number; lastAtMs: number }>();
const sockets: WebSocket[] = [];

function onMessage(data: Buffer): void {
  const head = HEAD.exec(data.toString('latin1', 0, 80));
  if (!head) return;
  const key = `${head[1]} ${head[2]}`;
  const now = Date.now();
  const entry = received.get(key);
  if (entry) {
    entry.clients++;
    entry.lastAtMs = now;
  } else {
    received.set(key, { source: head[1]!, timestamp: Number(head[2]), clients: 1, lastAtMs: now });
  }
}

function open(): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/stream`, { skipUTF8Validation: true, perMessageDeflate: false });
  socket.on('message', onMessage);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    // Before opening this fails the run; after, a dropped client shows as undelivered messages.
    socket.on('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`/stream answered ${response.statusCode}`)));
  });
}

async function main(): Promise<void> {
  for (let opened = 0; opened < count; opened += BATCH) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, count - opened) }, open))));
  }
  process.stdout.write('connected\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (line: string) => {
    if (!line.includes('report')) return;
    const report: ListenerReport = { messages: [...received.values()].map(({ source, timestamp, clients, lastAtMs }) => [source, timestamp, clients, lastAtMs] as const) };
    process.stdout.write(`report ${JSON.stringify(report)}\n`, () => {
      for (const socket of sockets) socket.terminate();
      process.exit(0);
    });
  });
}

main().catch((error: unknown) => {
  process.stdout.write(`failed ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
