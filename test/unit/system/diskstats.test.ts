import { diskIoSamples, parseDiskstats } from '../../../streams/system/diskstats';
import { fixture, valueOf } from '../../support/system';

describe('parseDiskstats and diskIoSamples', () => {
  const samples = diskIoSamples(parseDiskstats(fixture('diskstats.txt')));
  const devices = new Set(samples.map((s) => s.labels?.device));

  it('reports whole disks, dm and md devices, in bytes of 512-byte sectors', () => {
    expect(devices).toEqual(new Set(['nvme0n1', 'sda', 'dm-0', 'md0']));
    expect(valueOf(samples, 'system_disk_io_read_bytes_total', { device: 'nvme0n1' })).toBe(11946018 * 512);
    expect(valueOf(samples, 'system_disk_io_write_bytes_total', { device: 'nvme0n1' })).toBe(20123880 * 512);
    // md0 has read but never written: still reported.
    expect(valueOf(samples, 'system_disk_io_write_bytes_total', { device: 'md0' })).toBe(0);
  });

  it('leaves out partitions, loop and RAM devices, and devices without any I/O', () => {
    for (const device of ['nvme0n1p1', 'nvme0n1p2', 'sda1', 'loop0', 'zram0', 'sr0']) expect(devices.has(device)).toBe(false);
  });

  it('skips truncated and non-numeric lines', () => {
    const parsed = parseDiskstats('   8 0 sda 1 2 3\n   8 16 sdb 1 2 x 4 5 6 7 8\n 8 32 sdc 1 0 8 0 1 0 16 0 0 0 0\n\n');
    expect(parsed).toEqual([{ device: 'sdc', readBytes: 8 * 512, writtenBytes: 16 * 512 }]);
  });
});
