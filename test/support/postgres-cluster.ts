import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sparePort } from './ports';

/** Debian's server binaries (not on PATH): those of the newest installed major version. */
function serverBinaries(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return path.join('/usr/lib/postgresql', newest, 'bin');
}

/** A PostgreSQL cluster of a test's own that checks passwords (the machine's cluster trusts 127.0.0.1). */
export interface PasswordCluster {
  readonly port: number;
  /** Stops the server and removes its data directory; safe to call more than once, and after a failed start. */
  remove(): void;
}

/**
 * initdb refuses to run as root, so under root every PostgreSQL binary runs as the `postgres`
 * OS user, in a temporary directory it owns.
 */
function asPostgres(binary: string, args: string[]): void {
  const command = path.join(serverBinaries(), binary);
  const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000 });
}

/** The server's certificate and key, and the CA its clients' certificates must be signed by. */
export interface ClusterTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * initdb with scram-sha-256 for every connection and `password` for the superuser `postgres`, started on a spare port of 127.0.0.1.
 * With `tls`: `ssl=on`, and TCP clients must connect over TLS with a certificate of the CA whose CN is their user name.
 */
export async function startPasswordCluster(password: string, tls?: ClusterTls): Promise<PasswordCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-pg-'));
  const data = path.join(dir, 'data');
  let started = false;
  const remove = (): void => {
    try {
      if (started) asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      started = false;
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const passwordFile = path.join(dir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    // The server refuses a key file others can read: its copies are the server user's, 0600.
    const tlsFiles = tls && { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
    if (tls && tlsFiles) {
      copyFileSync(tls.caFile, tlsFiles.ca);
      copyFileSync(tls.certFile, tlsFiles.cert);
      copyFileSync(tls.keyFile, tlsFiles.key);
    }
    const privateFiles = [passwordFile, ...(tlsFiles ? [tlsFiles.ca, tlsFiles.cert, tlsFiles.key] : [])];
    for (const owned of privateFiles) chmodSync(owned, 0o600);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      for (const owned of [dir, ...privateFiles]) chownSync(owned, uid, gid);
    }
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '--no-sync']);
    if (tlsFiles) writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n');
    const tlsOptions = tlsFiles ? ` -c ssl=on -c ssl_ca_file=${tlsFiles.ca} -c ssl_cert_file=${tlsFiles.cert} -c ssl_key_file=${tlsFiles.key}` : '';
    const port = await sparePort();
    started = true;
    asPostgres('pg_ctl', [
      '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start',
      '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off${tlsOptions}`,
    ]);
    return { port, remove };
  } catch (error) {
    try {
      remove();
    } catch {
      // The start's own error says more than the failed stop of a server that did not start.
    }
    throw error;
  }
}
