import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createContainer } from '../../container';
import { TYPES } from '../../src/tokens';
import { loadConfig } from '../../streams/config';
import { createLogger } from '../../src/logger';
import { SOURCE_NAMES, SOURCE_TABLE } from '../../streams/sources';

/** The rows of the README's "Sources" table: `name` → summary. */
function readmeSourceRows(): [string, string][] {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split('\n## Sources\n')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z]+)` \| (.+) \|$/gm)].map((match) => [match[1], match[2]]);
}

describe('the source table', () => {
  it('is what the README lists, row by row', () => {
    expect(readmeSourceRows()).toEqual(SOURCE_TABLE.map((definition) => [definition.name, definition.summary]));
  });

  it('names the sources SOURCES accepts, and nothing else', () => {
    expect([...loadConfig({}).sources]).toEqual(SOURCE_NAMES);
    expect(() => loadConfig({ SOURCES: 'system,kafka' })).toThrow(/SOURCES.*system, app, database, iotflow, redis, mqtt/);
  });

  it('binds each enabled source under its own name, and only the enabled ones', () => {
    const build = (sources: string) =>
      createContainer(loadConfig({ SOURCES: sources }), createLogger('silent'))
        .getAll(TYPES.MetricSource)
        .map((source) => source.name);
    expect(build(SOURCE_NAMES.join(','))).toEqual(SOURCE_NAMES);
    expect(build('redis,app')).toEqual(['app', 'redis']);
  });
});
