import { dfUsage, diskUsage, parseMountinfo, selectFilesystems } from '../../../streams/system/filesystems';
import { fixture } from '../../support/system';

describe('parseMountinfo and selectFilesystems', () => {
  const mounts = parseMountinfo(fixture('mountinfo.txt'));
  const excluded = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup2']);

  it('reads device id, root, path, fstype and source, unescaping octal escapes', () => {
    expect(mounts[0]).toEqual({ deviceId: '259:2', root: '/', path: '/', fstype: 'ext4', device: '/dev/nvme0n1p2' });
    expect(mounts.find((m) => m.deviceId === '253:0')?.path).toBe('/mnt/my backups');
  });

  it('skips a truncated line', () => {
    expect(mounts.some((m) => m.path === '/mnt/opt')).toBe(false);
    expect(mounts).toHaveLength(13);
  });

  it('keeps real filesystems, one per device: the whole-tree mount with the shortest path', () => {
    const chosen = selectFilesystems(mounts, excluded);
    expect(chosen.map((m) => `${m.path} ${m.fstype}`).sort()).toEqual(['/ ext4', '/boot/efi vfat', '/mnt/my backups xfs', '/mnt/nfs nfs4']);
  });

  it('prefers a whole-tree mount over a shorter bind mount of a subtree', () => {
    const bindFirst = parseMountinfo(
      '1 0 8:1 /data/x /x rw - ext4 /dev/sda1 rw\n2 0 8:1 / /mnt/disk rw - ext4 /dev/sda1 rw\n',
    );
    expect(selectFilesystems(bindFirst, new Set()).map((m) => m.path)).toEqual(['/mnt/disk']);
  });
});

describe('diskUsage', () => {
  it('computes sizes as df does', () => {
    const usage = diskUsage({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 });
    expect(usage).toEqual({ totalBytes: 1000 * 4096, usedBytes: 700 * 4096, freeBytes: 250 * 4096, usagePercent: (700 / 950) * 100 });
  });

  it('reads 100 % for a disk full to its reserve and skips filesystems without blocks', () => {
    expect(diskUsage({ bsize: 4096, blocks: 1000, bfree: 50, bavail: 0 })?.usagePercent).toBe(100);
    expect(diskUsage({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 })).toBeUndefined();
  });
});

describe('dfUsage (systeminformation fsSize sizes)', () => {
  it('matches diskUsage for the same filesystem', () => {
    expect(dfUsage(1000 * 4096, 700 * 4096, 250 * 4096)).toEqual(diskUsage({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 }));
    expect(dfUsage(0, 0, 0)).toBeUndefined();
  });
});
