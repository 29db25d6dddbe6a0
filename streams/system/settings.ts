import type { NamePatterns } from '../../src/name-patterns';
import type { SettingsGroup, SettingsReader } from '../../src/settings';

export const SYSTEM_COLLECTOR_NAMES = ['cpu', 'load', 'memory', 'filesystems', 'diskstats', 'netdev', 'info'] as const;
export type SystemCollectorName = (typeof SYSTEM_COLLECTOR_NAMES)[number];

const DEFAULT_DISK_FSTYPES_EXCLUDED =
  'tmpfs,devtmpfs,overlay,squashfs,proc,sysfs,cgroup,cgroup2,devpts,mqueue,autofs,' +
  'debugfs,tracefs,securityfs,pstore,bpf,configfs,fusectl,hugetlbfs,ramfs,nsfs,binfmt_misc,rpc_pipefs,efivarfs,fuse.lxcfs';

/** Container hosts create and remove these interfaces all day: each would leave a trail of series. */
const DEFAULT_NETWORK_INTERFACES_EXCLUDED = 'lo,veth*,br-*,docker*,cali*';

export interface SystemSettings {
  /** Host collectors the `system` source runs (node_exporter's --no-collector.X turns one off). */
  readonly systemCollectors: ReadonlySet<SystemCollectorName>;
  /** Where procfs is read (a host's /proc mounted into a container); without a usable one, systeminformation. */
  readonly systemProcRoot: string;
  /** Filesystem types left out of the disk metrics (`*` and `?` patterns). */
  readonly diskFsTypesExcluded: NamePatterns;
  /** Network interfaces left out of the network metrics (`*` and `?` patterns). */
  readonly networkInterfacesExcluded: NamePatterns;
}

export const SYSTEM_SETTINGS = {
  title: 'system source',
  token: Symbol.for('SystemSettings'),
  settings: [
    { name: 'SYSTEM_COLLECTORS', default: SYSTEM_COLLECTOR_NAMES.join(','), meaning: 'the host collectors to run (leave one out to switch it off)' },
    { name: 'SYSTEM_PROC_ROOT', default: '/proc', meaning: 'where procfs is read (a host\'s /proc mounted into a container)' },
    { name: 'DISK_FSTYPES_EXCLUDED', default: DEFAULT_DISK_FSTYPES_EXCLUDED, meaning: 'filesystem types left out of the disk metrics (names or * ? patterns)' },
    { name: 'NETWORK_INTERFACES_EXCLUDED', default: DEFAULT_NETWORK_INTERFACES_EXCLUDED, meaning: 'interfaces left out of the network metrics (names or * ? patterns)' },
  ],
  load: (read: SettingsReader): SystemSettings => ({
    systemCollectors: new Set(read.listOf('SYSTEM_COLLECTORS', SYSTEM_COLLECTOR_NAMES)),
    systemProcRoot: read.absolutePath('SYSTEM_PROC_ROOT'),
    diskFsTypesExcluded: read.namePatterns('DISK_FSTYPES_EXCLUDED'),
    networkInterfacesExcluded: read.namePatterns('NETWORK_INTERFACES_EXCLUDED'),
  }),
} satisfies SettingsGroup<SystemSettings>;
