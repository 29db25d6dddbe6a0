import { httpGet, pause } from './processes';

export interface SourceStates {
  readonly up: readonly string[];
  /** Source → why it is down (from /health). */
  readonly down: Readonly<Record<string, string>>;
}

interface HealthBody {
  sources: Record<string, { up: boolean; error?: string }>;
}

/**
 * Waits until every source of the service on `port` is up (per /health), or `timeoutMs` passed,
 * and says which are up and which down: a suite reports a source that could not be made live
 * rather than quietly measuring without it.
 */
export async function waitForSourcesUp(port: number, timeoutMs = 20_000): Promise<SourceStates> {
  const deadline = Date.now() + timeoutMs;
  let states: SourceStates = { up: [], down: { service: 'no /health answer' } };
  while (Date.now() < deadline) {
    const { status, body } = await httpGet(port, '/health').catch(() => ({ status: 0, body: '' }));
    if (status === 200) {
      const { sources } = JSON.parse(body) as HealthBody;
      const entries = Object.entries(sources);
      states = {
        up: entries.filter(([, source]) => source.up).map(([name]) => name),
        down: Object.fromEntries(entries.filter(([, source]) => !source.up).map(([name, source]) => [name, source.error ?? 'down'])),
      };
      if (Object.keys(states.down).length === 0) return states;
    }
    await pause(200);
  }
  return states;
}

export function describeSources(states: SourceStates): string {
  const down = Object.entries(states.down).map(([name, error]) => `${name} DOWN (${error})`);
  return [...states.up, ...down].join(', ');
}
