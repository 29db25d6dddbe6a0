import { parseLoadavg } from '../../../streams/system/load';
import { fixture } from '../../support/system';

describe('parseLoadavg', () => {
  it('reads the three averages', () => {
    expect(parseLoadavg(fixture('loadavg.txt'))).toEqual({ '1m': 0.52, '5m': 1.05, '15m': 2.3 });
  });

  it.each([[''], ['0.52 1.05'], ['0.52 NaN 2.30 1/2 3']])('throws naming /proc/loadavg for %j', (text) => {
    expect(() => parseLoadavg(text)).toThrow(/^\/proc\/loadavg: expected three load averages/);
  });
});
