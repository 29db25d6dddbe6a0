import type { NameSet } from '../../src/name-patterns';
import type { MetricDescriptor, Sample } from '../../src/source';
import type { CollectorContext, HostAccess, HostCollector } from './collector';
import { unsignedFields } from './proc-files';

/** Collector `netdev`: system_network_* per interface, from /proc/net/dev (portable: systeminformation's networkStats(), bytes only). */

export interface InterfaceTraffic {
  readonly name: string;
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** Absent where the platform does not count packets. */
  readonly receivedPackets?: number;
  readonly sentPackets?: number;
}

export const NETDEV_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_network_bytes_received_total', help: 'Bytes received on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_bytes_sent_total', help: 'Bytes sent on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_packets_received_total', help: 'Packets received on the interface since boot', type: 'counter', labelNames: ['interface'] },
  { name: 'system_network_packets_sent_total', help: 'Packets sent on the interface since boot', type: 'counter', labelNames: ['interface'] },
];

/** Per-interface counters; the two header lines and any malformed line are skipped. */
export function parseNetDev(text: string): InterfaceTraffic[] {
  const interfaces: InterfaceTraffic[] = [];
  for (const line of text.split('\n')) {
    // Interface names cannot contain ':'; old kernels print no space after it.
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const counters = unsignedFields(line.slice(colon + 1).trim().split(/\s+/), 10);
    if (!name || !counters) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets …
    interfaces.push({ name, receivedBytes: counters[0], receivedPackets: counters[1], sentBytes: counters[8], sentPackets: counters[9] });
  }
  return interfaces;
}

export function networkSamples(interfaces: readonly InterfaceTraffic[], excluded: NameSet): Sample[] {
  return interfaces
    .filter(({ name }) => !excluded.has(name))
    .flatMap(({ name, receivedBytes, receivedPackets, sentBytes, sentPackets }) => {
      const labels = { interface: name };
      const samples: Sample[] = [
        { name: 'system_network_bytes_received_total', labels, value: receivedBytes },
        { name: 'system_network_bytes_sent_total', labels, value: sentBytes },
      ];
      if (receivedPackets !== undefined) samples.push({ name: 'system_network_packets_received_total', labels, value: receivedPackets });
      if (sentPackets !== undefined) samples.push({ name: 'system_network_packets_sent_total', labels, value: sentPackets });
      return samples;
    });
}

export class NetdevCollector implements HostCollector {
  readonly metrics = NETDEV_METRICS;
  private readonly excluded: NameSet;

  constructor({ config }: CollectorContext) {
    this.excluded = config.networkInterfacesExcluded;
  }

  async collect(host: HostAccess): Promise<Sample[]> {
    if (host.kind === 'proc') return networkSamples(parseNetDev(host.files.read('net/dev')), this.excluded);
    // systeminformation counts bytes, not packets: the packet series are absent.
    const stats = await (await host.systeminformation()).networkStats('*');
    return networkSamples(stats.map((stat) => ({ name: stat.iface, receivedBytes: stat.rx_bytes, sentBytes: stat.tx_bytes })), this.excluded);
  }
}
