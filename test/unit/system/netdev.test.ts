import { loadConfig } from '../../../streams/config';
import { networkSamples, parseNetDev } from '../../../streams/system/netdev';
import { fixture, valueOf } from '../../support/system';

describe('parseNetDev and networkSamples', () => {
  it('reads every interface, including one printed without a space after the colon', () => {
    const interfaces = parseNetDev(fixture('net-dev.txt'));
    expect(interfaces.map((i) => i.name)).toEqual(['lo', 'eth0', 'docker0']);
    expect(interfaces[1]).toEqual({ name: 'eth0', receivedBytes: 3284701953, receivedPackets: 2620480, sentBytes: 179336214, sentPackets: 1011842 });
  });

  it('leaves out the excluded interfaces', () => {
    const samples = networkSamples(parseNetDev(fixture('net-dev.txt')), new Set(['lo']));
    expect(new Set(samples.map((s) => s.labels?.interface))).toEqual(new Set(['eth0', 'docker0']));
    expect(valueOf(samples, 'system_network_packets_sent_total', { interface: 'docker0' })).toBe(1402);
    expect(valueOf(samples, 'system_network_bytes_received_total', { interface: 'docker0' })).toBe(93412);
  });

  it('skips truncated and non-numeric lines, keeping the others', () => {
    const text = fixture('net-dev.txt') + '  eth1: 1 2 3\n  eth2: 1 2 3 4 5 6 7 8 9 x 0 0 0 0 0 0\n: 1 2 3 4 5 6 7 8 9 10\n';
    expect(parseNetDev(text).map((i) => i.name)).toEqual(['lo', 'eth0', 'docker0']);
    expect(parseNetDev('')).toEqual([]);
  });

  it('case 13: container interfaces (veth*, br-*, docker*, cali*) and lo are excluded by default', () => {
    const samples = networkSamples(parseNetDev(fixture('net-dev-container.txt')), loadConfig({}).networkInterfacesExcluded);
    expect(new Set(samples.map((s) => s.labels?.interface))).toEqual(new Set(['eth0', 'ens3']));
  });
});

describe('networkSamples without packet counts (systeminformation)', () => {
  it('leaves the packet series out instead of inventing them', () => {
    const samples = networkSamples([{ name: 'en0', receivedBytes: 10, sentBytes: 20 }], new Set());
    expect(samples.map((s) => s.name)).toEqual(['system_network_bytes_received_total', 'system_network_bytes_sent_total']);
  });
});
