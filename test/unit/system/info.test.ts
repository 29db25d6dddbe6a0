import { infoSamples } from '../../../streams/system/info';

describe('infoSamples', () => {
  it('describes the host in labels of one series of value 1', () => {
    const cpus = [{ model: 'Intel(R) Xeon(R) CPU @ 2.20GHz ', speed: 2200, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }];
    expect(infoSamples({ platform: 'linux', release: '6.1.0-18-amd64', arch: 'x64', cpus })).toEqual([
      { name: 'system_info', labels: { os: 'linux', kernel: '6.1.0-18-amd64', arch: 'x64', cpu_model: 'Intel(R) Xeon(R) CPU @ 2.20GHz' }, value: 1 },
    ]);
  });

  it('has an empty model where the platform lists no CPUs', () => {
    expect(infoSamples({ platform: 'linux', release: '6.1', arch: 'arm64', cpus: [] })[0].labels?.cpu_model).toBe('');
  });
});
