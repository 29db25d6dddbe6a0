import { Counter, Gauge, Registry } from 'prom-client';
import { Exposition, negotiateFormat } from '../../src/metrics/exposition';
import type { ExposedFamily } from '../../src/metrics/exposed-metric';

const families: ExposedFamily[] = [
  { name: 'http_requests_total', help: 'Requests', type: 'counter', values: [{ value: 3, labels: { method: 'GET', endpoint: '/a "b"\\c\nd' } }] },
  { name: 'database_connections_total', help: 'Connections\nacross "all" databases \\', type: 'gauge', values: [{ value: 2, labels: {} }] },
  { name: 'empty_gauge', help: 'No series now', type: 'gauge', values: [] },
  {
    name: 'd_seconds',
    help: 'Durations',
    type: 'histogram',
    values: [
      { metricName: 'd_seconds_bucket', value: 1, labels: { le: 0.5 } },
      { metricName: 'd_seconds_bucket', value: 2, labels: { le: '+Inf' } },
      { metricName: 'd_seconds_sum', value: 0.75, labels: {} },
      { metricName: 'd_seconds_count', value: 2, labels: {} },
    ],
  },
  { name: 'odd_values', help: 'Non-finite values', type: 'gauge', values: [{ value: NaN, labels: { k: 'nan' } }, { value: Infinity, labels: { k: 'inf' } }, { value: -Infinity, labels: { k: 'neg' } }] },
];

/** The exposition of a registry of its own, for families made up by the test. */
const exposition = () => new Exposition(new Registry());

/** The exposition's methods as functions, as the tests call them. */
function bind(exposition: Exposition) {
  return {
    readFamilies: exposition.readFamilies.bind(exposition),
    serialize: exposition.serialize.bind(exposition),
    serializeToBuffer: exposition.serializeToBuffer.bind(exposition),
  };
}

describe('serialize', () => {
  it('writes the Prometheus text format 0.0.4', () => {
    expect(exposition().serialize(families, 'prometheus')).toBe(
      [
        '# HELP http_requests_total Requests',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="GET",endpoint="/a \\"b\\"\\\\c\\nd"} 3',
        '# HELP database_connections_total Connections\\nacross "all" databases \\\\',
        '# TYPE database_connections_total gauge',
        'database_connections_total 2',
        '# HELP d_seconds Durations',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{le="0.5"} 1',
        'd_seconds_bucket{le="+Inf"} 2',
        'd_seconds_sum 0.75',
        'd_seconds_count 2',
        '# HELP odd_values Non-finite values',
        '# TYPE odd_values gauge',
        'odd_values{k="nan"} NaN',
        'odd_values{k="inf"} +Inf',
        'odd_values{k="neg"} -Inf',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics: counter families without _total, samples with it, # EOF last', () => {
    const text = exposition().serialize(families.slice(0, 2), 'openmetrics');
    expect(text).toBe(
      [
        '# HELP http_requests Requests',
        '# TYPE http_requests counter',
        'http_requests_total{method="GET",endpoint="/a \\"b\\"\\\\c\\nd"} 3',
        '# HELP database_connections_total Connections\\nacross \\"all\\" databases \\\\',
        '# TYPE database_connections_total gauge',
        'database_connections_total 2',
        '# EOF',
        '',
      ].join('\n'),
    );
  });
});

describe('serializeToBuffer', () => {
  it('is the text of serialize() as UTF-8, in both formats, non-ASCII included', () => {
    const withUnicode: ExposedFamily[] = [...families, { name: 'room_celsius', help: 'Temperature → °C', type: 'gauge', values: [{ value: 21.5, labels: { room: 'Küche' } }] }];
    const { serialize, serializeToBuffer } = bind(exposition());
    for (const format of ['prometheus', 'openmetrics'] as const) {
      expect(serializeToBuffer(withUnicode, format).toString('utf8')).toBe(serialize(withUnicode, format));
    }
  });

  it('writes a family’s rendered samples as they are instead of formatting its values', () => {
    const rendered: ExposedFamily = { name: 'jobs_total', help: 'Jobs', type: 'counter', values: [{ value: 1, labels: {} }], writeRenderedSamples: (write) => ['jobs_total{queue="a"} 5\n', 'jobs_total{queue="b"} 7\n'].forEach((lines) => write(Buffer.from(lines))) };
    const text = ['# HELP jobs_total Jobs', '# TYPE jobs_total counter', 'jobs_total{queue="a"} 5', 'jobs_total{queue="b"} 7', ''].join('\n');
    const { serialize, serializeToBuffer } = bind(exposition());
    expect(serializeToBuffer([rendered], 'prometheus').toString('utf8')).toBe(text);
    expect(serialize([rendered], 'prometheus')).toBe(text);
  });
});

describe('serialize of a family read again', () => {
  it('follows every change of value, label or sample name, and reuses nothing stale', () => {
    const read = (value: number, labels: Record<string, string>, metricName?: string): ExposedFamily[] => [
      { name: 'reread_gauge', help: 'Read again', type: 'gauge', values: [{ value, labels: { ...labels }, ...(metricName ? { metricName } : {}) }] },
    ];
    const { serialize } = bind(exposition());
    const text = (family: ExposedFamily[]) => serialize(family, 'prometheus').split('\n')[2];
    expect(text(read(1, { a: 'x' }))).toBe('reread_gauge{a="x"} 1');
    // Equal samples in new objects, labels in another order: the same text.
    expect(text(read(1, { a: 'x' }))).toBe('reread_gauge{a="x"} 1');
    expect(text(read(2, { a: 'x' }))).toBe('reread_gauge{a="x"} 2');
    expect(text(read(2, { a: 'y' }))).toBe('reread_gauge{a="y"} 2');
    expect(text(read(2, { a: 'y', b: 'z' }))).toBe('reread_gauge{a="y",b="z"} 2');
    expect(text(read(2, { b: 'z', a: 'y' }))).toMatch(/^reread_gauge\{(a="y",b="z"|b="z",a="y")\} 2$/);
    expect(text(read(2, { b: 'z' }))).toBe('reread_gauge{b="z"} 2');
    expect(text(read(NaN, { b: 'z' }))).toBe('reread_gauge{b="z"} NaN');
    expect(text(read(NaN, { b: 'z' }))).toBe('reread_gauge{b="z"} NaN');
    expect(text(read(NaN, { b: 'z' }, 'reread_gauge_other'))).toBe('reread_gauge_other{b="z"} NaN');
  });

  it('follows a prom-client metric that changes its value objects in place', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'live_total', help: 'Live', labelNames: ['source'], registers: [registry] });
    const { readFamilies, serialize } = bind(new Exposition(registry));
    const line = async () => serialize(await readFamilies(() => undefined), 'prometheus').split('\n')[2];
    counter.inc({ source: 'redis' });
    expect(await line()).toBe('live_total{source="redis"} 1');
    counter.inc({ source: 'redis' });
    expect(await line()).toBe('live_total{source="redis"} 2');
  });

  it('renders each format on its own', () => {
    const { serialize } = bind(exposition());
    const counter: ExposedFamily[] = [{ name: 'both_total', help: 'Both', type: 'counter', values: [{ value: 1, labels: {} }] }];
    expect(serialize(counter, 'openmetrics')).toContain('\nboth_total 1\n');
    expect(serialize(counter, 'prometheus')).toContain('# TYPE both_total counter\nboth_total 1\n');
    expect(serialize(counter, 'openmetrics')).toContain('# TYPE both counter\nboth_total 1\n');
  });
});

describe('negotiateFormat', () => {
  it('answers OpenMetrics only when the scraper asks for it', () => {
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).toBe('openmetrics');
    expect(negotiateFormat('text/plain')).toBe('prometheus');
    expect(negotiateFormat('')).toBe('prometheus');
  });
});

describe('readFamilies', () => {
  it('leaves out a metric whose collect() throws and serves the rest', async () => {
    const registry = new Registry();
    const healthy = new Counter({ name: 'healthy_total', help: 'h', registers: [registry] });
    healthy.inc(4);
    new Counter({
      name: 'broken_total',
      help: 'b',
      registers: [registry],
      collect() {
        throw new Error('collect exploded');
      },
    });
    const failures: string[] = [];
    const read = await new Exposition(registry).readFamilies((name, error) => failures.push(`${name}: ${(error as Error).message}`));
    expect(read.map((family) => family.name)).toEqual(['healthy_total']);
    expect(failures).toEqual(['broken_total: collect exploded']);
    await expect(registry.metrics()).rejects.toThrow('collect exploded');
  });
});

describe('render caches', () => {
  it('belong to the registry they render: a change in one registry is not seen by the other, and vice versa', async () => {
    const one = new Registry();
    const other = new Registry();
    const inOne = new Gauge({ name: 'same_name', help: 'h', registers: [one] });
    const inOther = new Gauge({ name: 'same_name', help: 'h', registers: [other] });
    inOne.set(1);
    inOther.set(2);
    const expositions = new Map([one, other].map((registry) => [registry, bind(new Exposition(registry))]));
    const render = async (registry: Registry) => {
      const { readFamilies, serialize } = expositions.get(registry)!;
      return serialize(await readFamilies(() => undefined), 'prometheus');
    };
    expect(await render(one)).toContain('\nsame_name 1\n');
    expect(await render(other)).toContain('\nsame_name 2\n');
    // A rendering is encoded once (Buffer.from); one kept by its registry is not encoded again.
    const encode = jest.spyOn(Buffer, 'from');
    try {
      inOther.set(3);
      expect(await render(other)).toContain('\nsame_name 3\n');
      expect(encode).toHaveBeenCalledTimes(1);
      expect(await render(one)).toContain('\nsame_name 1\n');
      expect(encode).toHaveBeenCalledTimes(1);
      inOne.set(4);
      expect(await render(one)).toContain('\nsame_name 4\n');
      expect(encode).toHaveBeenCalledTimes(2);
      expect(await render(other)).toContain('\nsame_name 3\n');
      expect(encode).toHaveBeenCalledTimes(2);
    } finally {
      encode.mockRestore();
    }
  });
});
