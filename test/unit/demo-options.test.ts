import { DemoUsageError, parseDemoOptions } from '../../demo/options';

describe('npm run demo options', () => {
  it('defaults: 1,000 devices, 50 messages/s, database iotflow_demo, no Prometheus', () => {
    expect(parseDemoOptions([])).toMatchObject({ devices: 1000, rate: 50, database: 'iotflow_demo', keepDatabase: false, prometheus: false, prometheusPort: 9090 });
  });

  it('reads every option, as --flag value or --flag=value', () => {
    expect(parseDemoOptions(['--devices', '50', '--rate=2.5', '--http-rate', '0', '--database', 'my_demo', '--keep-database', '--prometheus', '--prometheus-port=9999'])).toMatchObject({
      devices: 50,
      rate: 2.5,
      httpRate: 0,
      database: 'my_demo',
      keepDatabase: true,
      prometheus: true,
      prometheusPort: 9999,
    });
  });

  it.each([
    [['--devices', '0'], '--devices "0" is invalid: expected an integer from 1 to 1000000'],
    [['--devices', '1.5'], '--devices "1.5" is invalid'],
    [['--rate'], '--rate (missing) is invalid'],
    [['--database', 'Robert"; DROP'], '--database "Robert\\"; DROP" is invalid'],
    [['--devcies', '5'], 'unknown option "--devcies"'],
  ])('bad input %j is refused, naming it', (argv, message) => {
    expect(() => parseDemoOptions(argv)).toThrow(DemoUsageError);
    expect(() => parseDemoOptions(argv)).toThrow(message);
  });
});
