import { parameterNames, patternMatcher, RouteTable } from '../../src/http/route-table';

describe('patternMatcher', () => {
  it.each([
    ['/metrics', '/metrics', true],
    ['/metrics', '/metrics/', false],
    ['/metrics', '/metric', false],
    ['/api/v1/devices/:id', '/api/v1/devices/42', true],
    ['/api/v1/devices/:id', '/api/v1/devices/', false],
    ['/api/v1/devices/:id', '/api/v1/devices', false],
    ['/api/v1/devices/:id', '/api/v1/devices/42/extra', false],
    ['/a/:x/b/:y', '/a/1/b/2', true],
    ['/a/:x/b/:y', '/a/1/c/2', false],
    ['/v1.0/(x)', '/v1.0/(x)', true],
    ['/v1.0/(x)', '/v1x0/(x)', false],
    ['/v1.0/(x)', '/v1.0/x', false],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(patternMatcher(pattern)(path)).toBe(expected);
  });
});

describe('parameterNames', () => {
  it('lists the parameters of a pattern in order', () => {
    expect(parameterNames('/a/:id/b/:name')).toEqual(['id', 'name']);
    expect(parameterNames('/metrics')).toEqual([]);
  });
});

describe('RouteTable', () => {
  it('refuses a second route with the same method and path, naming it', () => {
    const table = new RouteTable().add({ method: 'GET', path: '/x', handler: () => ({ status: 200, body: '' }) });
    table.add({ method: 'POST', path: '/x', handler: () => ({ status: 200, body: '' }) });
    expect(() => table.add({ method: 'GET', path: '/x', handler: () => ({ status: 200, body: '' }) })).toThrow('route GET /x is already registered');
    expect(table.routes()).toHaveLength(2);
  });
});
