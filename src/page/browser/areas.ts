/** What the live page shows of each source: its numbers and one chart, read from a collection. */
namespace LivePage {
  /** A number shown on a card: most are numbers, the version is text. */
  export type Reading = number | string | undefined;
  export type Readings = Record<string, Reading>;
  export type Format = (reading: Reading) => string | undefined;

  /** [key, label, format] */
  export type NumberSpec = readonly [string, string, Format];

  export interface Area {
    readonly title?: string;
    readonly numbers: readonly NumberSpec[];
    /** [key, label, format] of the one chart, if any. */
    readonly chart?: NumberSpec;
    /** `memory` keeps counters between collections (for rates). */
    derive(message: SourceMessage, memory: CounterMemory): Readings;
  }

  export function defined(reading: Reading): reading is number {
    return typeof reading === 'number' && isFinite(reading);
  }

  const percent: Format = (v) => (defined(v) ? `${v.toFixed(1)} %` : undefined);
  const count: Format = (v) => (defined(v) ? Math.round(v).toLocaleString('en') : undefined);
  const decimal: Format = (v) => (defined(v) ? v.toFixed(2) : undefined);
  const text: Format = (v) => (v === undefined ? undefined : String(v));
  export const rate: Format = (v) => (defined(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en')}/s` : undefined);

  const bytes: Format = (v) => {
    if (!defined(v)) return undefined;
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
  };

  const duration: Format = (seconds) => {
    if (!defined(seconds)) return undefined;
    if (seconds < 120) return `${Math.round(seconds)} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} d`;
  };

  /** The cache's hit ratio since the previous collection when there were lookups, else since Redis started. */
  function hitRatio(m: SourceMessage, memory: CounterMemory): number | undefined {
    const allHits = value(m, 'redis_cache_hits_total');
    const allMisses = value(m, 'redis_cache_misses_total');
    const hits = perSecond(memory, 'hits', allHits, m.timestamp);
    const misses = perSecond(memory, 'misses', allMisses, m.timestamp);
    if (defined(hits) && defined(misses) && hits + misses > 0) return (100 * hits) / (hits + misses);
    if (defined(allHits) && defined(allMisses) && allHits + allMisses > 0) return (100 * allHits) / (allHits + allMisses);
    return undefined;
  }

  export const AREAS: Readonly<Record<string, Area>> = {
    system: {
      title: 'Host',
      numbers: [['cpu', 'CPU', percent], ['memory', 'Memory', percent], ['load', 'Load 1m', decimal]],
      chart: ['cpu', 'CPU busy %', percent],
      derive: (m) => ({ cpu: value(m, 'system_cpu_usage_percent'), memory: value(m, 'system_memory_usage_percent'), load: value(m, 'system_load_average', { period: '1m' }) }),
    },
    database: {
      title: 'PostgreSQL',
      numbers: [['connections', 'Connections', count], ['max', 'Max', count], ['active', 'Active', count], ['sql', 'From SQL', count]],
      chart: ['connections', 'Connections', count],
      derive: (m) => ({
        connections: value(m, 'database_connections_total'),
        max: value(m, 'database_connections_max'),
        active: value(m, 'database_connections_active'),
        // The samples of DATABASE_QUERIES_FILE: every one not named database_* (0 without a file).
        sql: (m.metrics ?? []).filter((metric) => !metric.name.startsWith('database_')).length,
      }),
    },
    mqtt: {
      title: 'MQTT',
      numbers: [['clients', 'Clients', count], ['telemetry', 'Telemetry', rate]],
      chart: ['telemetry', 'Telemetry messages/s', rate],
      derive: (m, memory) => ({ clients: value(m, 'mqtt_connections_active'), telemetry: perSecond(memory, 'telemetry', value(m, 'iotflow_telemetry_messages_total'), m.timestamp) }),
    },
    redis: {
      title: 'Redis',
      numbers: [['memory', 'Memory', bytes], ['hitRatio', 'Hit ratio', percent], ['clients', 'Clients', count]],
      chart: ['memory', 'Memory used', bytes],
      derive: (m, memory) => ({ memory: value(m, 'redis_memory_used_bytes'), hitRatio: hitRatio(m, memory), clients: value(m, 'redis_connected_clients') }),
    },
    iotflow: {
      title: 'IoTFlow',
      numbers: [['devices', 'Devices', count], ['online', 'Online', count], ['users', 'Users', count]],
      chart: ['online', 'Devices online', count],
      derive: (m) => ({ devices: value(m, 'iotflow_devices_total'), online: value(m, 'iotflow_devices_online'), users: value(m, 'iotflow_users_total') }),
    },
    app: {
      title: 'Exporter',
      numbers: [['http', 'HTTP requests', rate], ['uptime', 'Uptime', duration], ['version', 'Version', text]],
      chart: ['http', 'HTTP requests/s', rate],
      // The stream's `app` message carries the exporter's http_requests_total, every route and status.
      derive: (m, memory) => ({
        http: perSecond(memory, 'http', sum(m, 'http_requests_total'), m.timestamp),
        uptime: value(m, 'app_uptime_seconds'),
        version: find(m, 'app_info')?.labels.version,
      }),
    },
  };

  /** A source the page has no area for: its state only. */
  export const GENERIC: Area = { numbers: [], derive: () => ({}) };
}
