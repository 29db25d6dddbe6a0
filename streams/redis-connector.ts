import net from 'node:net';
import tls from 'node:tls';
import { AbstractConnector, type RedisOptions, type StandaloneConnectionOptions } from 'ioredis';
import type { SourceTls } from '../src/tls-files';

/**
 * ioredis's connection to one Redis server (`Connector` option), as its own standalone connector
 * makes it (host and port or a Unix socket path, TLS with `tls`), except that each socket keeps an
 * 'error' listener from its creation to its end. ioredis listens for one error per socket, and a TLS
 * socket can emit two: Node still reports a fatal alert or a corrupt record that arrives in the same
 * read as the handshake after the socket was destroyed for a refused certificate, and a TLS error
 * after the handshake leaves the socket open for the write or read that fails next. A second error
 * with no listener is an uncaught exception, which would end the process. The first error of each
 * socket reaches ioredis (and so the source's 'error' handler); later ones only repeat that the
 * socket is gone, and ioredis's 'close' handling reconnects.
 */
export class RedisSocketConnector extends AbstractConnector {
  private readonly options: StandaloneConnectionOptions;

  /** `options`: the client's options, as ioredis hands them to every connector. */
  constructor(options: unknown) {
    const standalone = options as StandaloneConnectionOptions;
    super(standalone.disconnectTimeout ?? 2000);
    this.options = standalone;
  }

  connect(): Promise<net.Socket> {
    this.connecting = true;
    const { path, host, port, family, tls: tlsOptions } = this.options;
    const address: net.NetConnectOpts = path ? { path } : { host, port: port ?? 6379, ...(family === undefined ? {} : { family }) };
    // A tick later, as ioredis's own connector: disconnect() in between leaves no socket behind.
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        let socket: net.Socket;
        try {
          socket = tlsOptions ? tls.connect({ ...address, ...tlsOptions } as tls.ConnectionOptions) : net.createConnection(address);
        } catch (error) {
          reject(error as Error);
          return;
        }
        let first = true;
        socket.on('error', (error: Error) => {
          if (first) this.firstError = error;
          first = false;
        });
        this.stream = socket;
        resolve(socket);
      });
    });
  }
}

/**
 * The connection part of ioredis's options for REDIS_URL: REDIS_TLS_*_FILE's CA and client
 * certificate (rediss:// only, checked at start; verification stays on), and sockets that keep their
 * error listener.
 */
export function redisConnectionOptions(tls: SourceTls | undefined): Pick<RedisOptions, 'tls' | 'Connector'> {
  return { ...(tls ? { tls: { ...tls } } : {}), Connector: RedisSocketConnector };
}
