import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface SelfSignedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate itself, for a client's `ca`. */
  readonly pem: Buffer;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl in a temporary directory. */
export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'iotflow-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { certFile, keyFile, pem: readFileSync(certFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A certificate and key signed by a TestCertificateAuthority. */
export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A private CA of a test's own: its certificate, and certificates it signs for servers and clients. */
export interface TestCertificateAuthority {
  readonly caFile: string;
  /** A server certificate for 127.0.0.1 and localhost. */
  issueServer(name: string): IssuedCertificate;
  /** A client certificate whose subject CN is `commonName` (PostgreSQL's cert check compares it with the user). */
  issueClient(commonName: string): IssuedCertificate;
  remove(): void;
}

/**
 * Makes a CA with openssl in a temporary directory (0755, files 0644: servers that drop to their
 * own user, as Mosquitto does, can read them).
 */
export function makeCertificateAuthority(): TestCertificateAuthority {
  const dir = mkdtempSync(path.join(tmpdir(), 'iotflow-ca-'));
  chmodSync(dir, 0o755);
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const newKey = (keyFile: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', keyFile);
  const caFile = file('ca.pem');
  newKey(file('ca.key'));
  openssl('req', '-x509', '-new', '-key', file('ca.key'), '-days', '1', '-subj', '/CN=iotflow-metrics test CA', '-out', caFile);
  const issue = (name: string, commonName: string, extensions: string): IssuedCertificate => {
    const keyFile = file(`${name}.key`);
    const certFile = file(`${name}.pem`);
    newKey(keyFile);
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-new', '-key', keyFile, '-subj', `/CN=${commonName}`, '-out', file(`${name}.csr`));
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', caFile, '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file(`${name}.ext`), '-out', certFile);
    for (const made of [keyFile, certFile]) chmodSync(made, 0o644);
    return { certFile, keyFile };
  };
  return {
    caFile,
    issueServer: (name) => issue(name, 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    issueClient: (commonName) => issue(`client-${commonName}`, commonName, 'extendedKeyUsage=clientAuth\n'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CorruptingTlsPeer {
  readonly port: number;
  close(): Promise<void>;
}

/** An application-data record (type 23, TLS 1.2 framing) of 32 bytes that no key decrypts. */
const CORRUPT_RECORD = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(32, 7)]);

/**
 * A TLS server as a broken network or middlebox shows it to a client: a relay in front of a TLS
 * server (`certificate`) that appends a record no key decrypts to the server's handshake flight, so
 * that the client reads both at once, then resets the connection. A client that trusts the
 * certificate meets a TLS error once connected, then a failed read or write; one that does not
 * refuses the certificate and meets the TLS error on the socket it has just destroyed.
 */
export async function startCorruptingTlsPeer(certificate: IssuedCertificate): Promise<CorruptingTlsPeer> {
  const server = tls.createServer({ cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) });
  server.on('tlsClientError', () => undefined);
  server.on('secureConnection', (socket) => socket.on('error', () => socket.destroy()));
  const sockets = new Set<net.Socket>();
  const keep = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay = net.createServer((client) => {
    keep(client);
    const upstream = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    keep(upstream);
    client.pipe(upstream);
    // The server writes its whole flight at once, in answer to the ClientHello: what came within 30 ms of its first bytes is all of it.
    const flight: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => {
      flight.push(chunk);
      if (flight.length > 1) return;
      setTimeout(() => {
        client.write(Buffer.concat([...flight, CORRUPT_RECORD]));
        setTimeout(() => client.resetAndDestroy(), 50);
      }, 30);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([relay, server].map((listening) => new Promise((resolve) => listening.close(resolve))));
    },
  };
}
