import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from '../../src/source';

/** Helpers shared by the host collectors' unit tests. */

export const fixture = (name: string): string => readFileSync(path.join(__dirname, '..', 'fixtures', 'system', name), 'utf8');

export const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels?.[key] === value))?.value;

export const expectAllFinite = (samples: readonly Sample[]) => {
  for (const sample of samples) expect(Number.isFinite(sample.value)).toBe(true);
};
