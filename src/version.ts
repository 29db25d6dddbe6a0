import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read once; works from src/ (ts-jest) and dist/src/ (built). */
function readVersion(): string {
  for (const candidate of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'iotflow-metrics' && parsed.version) return parsed.version;
    } catch {
      // Try the next location.
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
