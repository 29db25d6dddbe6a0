import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';

export interface StreamClientsCost {
  readonly clients: number;
  /** Clients that received a collection newer than the snapshot they were sent on connecting. */
  readonly clientsThatGotTheNextTick: number;
  readonly rssBeforeBytes: number;
  readonly rssWithClientsBytes: number;
  readonly rssPerClientBytes: number;
}

/**
 * Starts the built service as its own process (sources app and system, a 1 s interval), connects
 * `clients` WebSocket clients to /stream?sources=app, waits until every one has received a
 * collection newer than its snapshot, and reads the service's resident memory before and with them.
 */
export async function measureStreamClients(clients: number): Promise<StreamClientsCost> {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(process.execPath, [path.join(root, 'dist', 'container', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', SOURCES: 'app,system', COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0', STREAM_MAX_CLIENTS: '100000', STREAM_MAX_CLIENTS_PER_ADDRESS: '100000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on [^\s]+:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr}`)));
    });
    await pause(3000); // First collections done, heap settled.
    const rssBeforeBytes = rssOf(child.pid!);
    const sockets: WebSocket[] = [];
    let gotTick = 0;
    for (let batch = 0; batch < clients; batch += 100) {
      const opened = Array.from({ length: Math.min(100, clients - batch) }, () => connect(port, () => gotTick++));
      sockets.push(...(await Promise.all(opened)));
    }
    const deadline = Date.now() + 30_000;
    while (gotTick < clients && Date.now() < deadline) await pause(100);
    await pause(2000);
    const rssWithClientsBytes = rssOf(child.pid!);
    for (const socket of sockets) socket.terminate();
    return {
      clients,
      clientsThatGotTheNextTick: gotTick,
      rssBeforeBytes,
      rssWithClientsBytes,
      rssPerClientBytes: Math.round((rssWithClientsBytes - rssBeforeBytes) / clients),
    };
  } finally {
    child.kill('SIGKILL');
  }
}

/** A client of the `app` source that calls `onTick` once, at the first collection after its snapshot. */
function connect(port: number, onTick: () => void): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/stream?sources=app`);
  let snapshotTime: number | undefined;
  let counted = false;
  socket.on('message', (data) => {
    const { timestamp } = JSON.parse(String(data)) as { timestamp: number };
    if (snapshotTime === undefined) snapshotTime = timestamp;
    else if (!counted && timestamp > snapshotTime) {
      counted = true;
      onTick();
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (require.main === module) {
  measureStreamClients(Number(process.argv[2] ?? 1000)).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
