import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
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
export function openStream(port: number, query = '', options: StreamOptions = {}, protocols: readonly string[] = []): Promise<StreamClient> {
  const { scheme = 'ws', ...clientOptions } = options;
  const socket = new WebSocket(`${scheme}://127.0.0.1:${port}/stream${query ? `?${query}` : ''}`, [...protocols], clientOptions);
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

/**
 * A WebSocket client on a bare TCP socket, for tests that must control reading: the upgrade is
 * done by hand, then the socket is paused so nothing more is read; `sendText` still writes frames.
 */
export interface RawStreamClient {
  readonly socket: net.Socket;
  sendText(text: string): void;
}

/** Opens a raw stream; `headers` are added to the upgrade request (e.g. `Origin`). A refusal rejects with the status and the whole reply read so far. */
export function openRawStream(port: number, query = '', headers: Record<string, string> = {}): Promise<RawStreamClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // The server closing hard shows as ECONNRESET: expected.
    socket.once('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET /stream${query ? `?${query}` : ''} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
          '\r\n',
      );
    });
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(Object.assign(new Error(`upgrade refused: ${head.split('\r\n')[0]}`), { status: Number(head.split(' ')[1]), reply: head }));
        return;
      }
      resolve({ socket, sendText: (text) => socket.write(maskedTextFrame(text)) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed during the upgrade')));
  });
}

/** A client → server text frame (clients must mask, RFC 6455 §5.3); payloads under 126 bytes. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('maskedTextFrame takes payloads under 126 bytes');
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
  return frame;
}

/** TCP memory the kernel holds, all sockets together, in bytes (/proc/net/sockstat counts pages). */
export function kernelTcpMemoryBytes(): number {
  const match = /^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  if (!match) throw new Error('no TCP mem in /proc/net/sockstat');
  return Number(match[1]) * 4096;
}

/**
 * Send-queue memory the kernel holds for the sockets of one local port (`ss`'s skmem `w`), orphaned
 * ones included: unlike /proc/net/sockstat, other processes' traffic does not count.
 */
export function portSendQueueBytes(port: number): number {
  const listing = execFileSync('ss', ['-tmnH', 'state', 'all', `( sport = :${port} )`], { encoding: 'utf8' });
  return [...listing.matchAll(/skmem:\([^)]*\bw(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** The Send-Q (bytes written and not yet acknowledged by the peer) of each connection whose local port is `port`, listeners left out. */
export function portSendQueues(port: number): number[] {
  const listing = execFileSync('ss', ['-tnH', 'state', 'all', `( sport = :${port} )`], { encoding: 'utf8' });
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([state]) => state !== '' && state !== 'LISTEN')
    .map(([, , sendQueue]) => Number(sendQueue));
}

/**
 * Reads a raw client's socket to its end (resuming it) and returns the code of the close frame the
 * server sent, or undefined if none came: server frames are unmasked (RFC 6455 §5.2).
 */
export function serverCloseCode(socket: net.Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = () => resolve(closeCodeIn(received));
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.once('close', finish);
    socket.resume();
  });
}

function closeCodeIn(frames: Buffer): number | undefined {
  for (let at = 0; at + 2 <= frames.length; ) {
    const opcode = frames[at] & 0x0f;
    let length = frames[at + 1] & 0x7f;
    let header = 2;
    if (length === 126) [length, header] = [frames.readUInt16BE(at + 2), 4];
    else if (length === 127) [length, header] = [Number(frames.readBigUInt64BE(at + 2)), 10];
    if (opcode === 0x8) return length >= 2 && at + header + 2 <= frames.length ? frames.readUInt16BE(at + header) : undefined;
    at += header + length;
  }
  return undefined;
}
