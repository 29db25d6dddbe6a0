import type { MetricDescriptor, Sample } from '../../src/source';
import type { HostAccess, HostCollector } from './collector';
import { unsignedFields } from './proc-files';

/** Collector `diskstats`: system_disk_io_*_bytes_total per block device, from /proc/diskstats. */

/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const DISKSTATS_SECTOR_BYTES = 512;

/**
 * Block devices left out of the disk I/O counters, as node_exporter's default
 * `--collector.diskstats.device-exclude`: RAM disks, loop devices, floppies, and partitions, whose
 * I/O is already counted in their whole disk. Device-mapper and md devices stay.
 */
const EXCLUDED_BLOCK_DEVICE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

export interface BlockDeviceIo {
  readonly device: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

export const DISKSTATS_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_disk_io_read_bytes_total', help: 'Bytes read from the block device since boot', type: 'counter', labelNames: ['device'] },
  { name: 'system_disk_io_write_bytes_total', help: 'Bytes written to the block device since boot', type: 'counter', labelNames: ['device'] },
];

/** Bytes read and written per block device; malformed lines are skipped. */
export function parseDiskstats(text: string): BlockDeviceIo[] {
  const devices: BlockDeviceIo[] = [];
  for (const line of text.split('\n')) {
    const [, , device, ...fields] = line.trim().split(/\s+/);
    // reads completed, reads merged, sectors read, ms reading, writes completed, writes merged, sectors written
    const counters = device ? unsignedFields(fields, 7) : undefined;
    if (!device || !counters) continue;
    devices.push({ device, readBytes: counters[2] * DISKSTATS_SECTOR_BYTES, writtenBytes: counters[6] * DISKSTATS_SECTOR_BYTES });
  }
  return devices;
}

/** Whole disks (see EXCLUDED_BLOCK_DEVICE) that have done any I/O since boot. */
export function diskIoSamples(devices: readonly BlockDeviceIo[]): Sample[] {
  return devices
    .filter(({ device, readBytes, writtenBytes }) => !EXCLUDED_BLOCK_DEVICE.test(device) && readBytes + writtenBytes > 0)
    .flatMap(({ device, readBytes, writtenBytes }) => [
      { name: 'system_disk_io_read_bytes_total', labels: { device }, value: readBytes },
      { name: 'system_disk_io_write_bytes_total', labels: { device }, value: writtenBytes },
    ]);
}

export class DiskstatsCollector implements HostCollector {
  readonly metrics = DISKSTATS_METRICS;

  /** Portable: none. systeminformation counts disk I/O for all devices together only (fsStats, disksIO). */
  async collect(host: HostAccess): Promise<Sample[]> {
    return host.kind === 'proc' ? diskIoSamples(parseDiskstats(host.files.read('diskstats'))) : [];
  }
}
