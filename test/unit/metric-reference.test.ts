import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_END, GENERATED_START, metricReference, renderMetricReference, withReference } from '../../container/metric-reference';

const DOC = path.join(__dirname, '..', '..', 'docs', 'metrics.md');

describe('docs/metrics.md', () => {
  it('lists every family of the registry with its type, labels and source, as `npm run docs:metrics` writes them', async () => {
    const families = await metricReference();
    const document = readFileSync(DOC, 'utf8');
    const written = document.slice(document.indexOf(GENERATED_START), document.indexOf(GENERATED_END) + GENERATED_END.length);
    // On a difference: run `npm run docs:metrics`, and add a note for a new family if it needs one.
    expect(written).toBe(renderMetricReference(families));
    expect(families.length).toBeGreaterThan(100);
    expect(families.find(({ name }) => name === 'http_request_duration_seconds')).toEqual(expect.objectContaining({ type: 'histogram', labels: ['method', 'endpoint', 'status'], source: 'app' }));
    expect(families.find(({ name }) => name === 'collector_up')).toEqual(expect.objectContaining({ type: 'gauge', labels: ['source'], source: 'every source' }));
    expect(families.find(({ name }) => name === 'redis_status')).toEqual(expect.objectContaining({ source: 'redis' }));
    for (const { name, help } of families) expect([name, help.length > 0]).toEqual([name, true]);
  }, 60_000);

  it('keeps the hand-written notes around the generated part', () => {
    const reference = renderMetricReference([{ name: 'x_seconds', type: 'gauge', labels: ['a'], source: 'app', help: 'X | Y' }]);
    const document = `# Title\n\nNotes.\n\n${GENERATED_START}\nold\n${GENERATED_END}\n\nMore notes.\n`;
    expect(withReference(document, reference)).toBe(`# Title\n\nNotes.\n\n${reference}\n\nMore notes.\n`);
    expect(reference).toContain('| `x_seconds` | gauge | `a` | seconds | X \\| Y |');
    expect(() => withReference('# no markers', reference)).toThrow('docs/metrics.md has no generated part');
  });

  it('is what the README sends readers to', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('(docs/metrics.md)');
    expect(readme).not.toContain('../shared');
  });
});
