import { spawn, type ChildProcess } from 'node:child_process';

/** SIGKILL, as a crash would: no goodbye to the clients. Resolves once the process is gone. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Server processes of a test's own (brokers, Redis servers): each is started and awaited until it
 * says it is ready, and `killAll` (for afterAll) ends whatever a test left running.
 */
export class ServerProcesses {
  private readonly running = new Set<ChildProcess>();

  /**
   * Spawns `command` and resolves once its output (stdout and stderr together) matches `ready`;
   * rejects with that output, naming `what`, if it exits first.
   */
  start(command: string, args: readonly string[], ready: RegExp, what: string): Promise<ChildProcess> {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.running.add(child);
    child.on('exit', () => this.running.delete(child));
    let output = '';
    return new Promise((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (ready.test(output)) resolve(child);
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${output}`)));
    });
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.running].map(killProcess));
  }
}
