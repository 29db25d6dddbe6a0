/**
 * What the live page shows of each source, and the formats and readings it needs: plain ES2017 for
 * the browser, served as its own asset before the page script (README "Live page"), which takes
 * them from `window.iotflowAreas`.
 */
export const PAGE_AREAS_SCRIPT = String.raw`(function () {
  'use strict';
  function find(message, name, labels) {
    var metrics = message.metrics || [];
    for (var i = 0; i < metrics.length; i++) {
      var metric = metrics[i];
      if (metric.name !== name) continue;
      var matches = true;
      for (var key in labels || {}) if (metric.labels[key] !== labels[key]) matches = false;
      if (matches) return metric;
    }
    return undefined;
  }
  function value(message, name, labels) {
    var metric = find(message, name, labels);
    return metric ? metric.value : undefined;
  }
  /** Per second since the previous reading of the same counter; undefined for the first, or after a reset. */
  function perSecond(memory, key, total, timestampMs) {
    var previous = memory[key];
    memory[key] = { total: total, at: timestampMs };
    if (total === undefined || !previous || previous.total === undefined || total < previous.total || timestampMs <= previous.at) return undefined;
    return (total - previous.total) / ((timestampMs - previous.at) / 1000);
  }

  function defined(v) { return v !== undefined && v !== null && isFinite(v); }
  function percent(v) { return defined(v) ? v.toFixed(1) + ' %' : undefined; }
  function count(v) { return defined(v) ? Math.round(v).toLocaleString('en') : undefined; }
  function decimal(v) { return defined(v) ? v.toFixed(2) : undefined; }
  function rate(v) { return defined(v) ? (v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en')) + '/s' : undefined; }
  function bytes(v) {
    if (!defined(v)) return undefined;
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
  }
  function duration(seconds) {
    if (!defined(seconds)) return undefined;
    if (seconds < 120) return Math.round(seconds) + ' s';
    if (seconds < 7200) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
    return (seconds / 86400).toFixed(1) + ' d';
  }

  /**
   * What each source shows: numbers (key, label, format) and one chart (key, label, format), read
   * from a collection by derive(message, memory); memory keeps counters between collections.
   */
  var AREAS = {
    system: {
      title: 'Host',
      numbers: [['cpu', 'CPU', percent], ['memory', 'Memory', percent], ['load', 'Load 1m', decimal]],
      chart: ['cpu', 'CPU busy %', percent],
      derive: function (m) {
        return { cpu: value(m, 'system_cpu_usage_percent'), memory: value(m, 'system_memory_usage_percent'), load: value(m, 'system_load_average', { period: '1m' }) };
      }
    },
    database: {
      title: 'PostgreSQL',
      numbers: [['connections', 'Connections', count], ['max', 'Max', count], ['active', 'Active', count], ['sql', 'From SQL', count]],
      chart: ['connections', 'Connections', count],
      derive: function (m) {
        // The samples of DATABASE_QUERIES_FILE: every one not named database_*; none without a file.
        var sql = find(m, 'database_queries_file_loaded_timestamp_seconds')
          ? (m.metrics || []).filter(function (metric) { return metric.name.indexOf('database_') !== 0; }).length : undefined;
        return { connections: value(m, 'database_connections_total'), max: value(m, 'database_connections_max'), active: value(m, 'database_connections_active'), sql: sql };
      }
    },
    mqtt: {
      title: 'MQTT',
      numbers: [['clients', 'Clients', count], ['telemetry', 'Telemetry', rate]],
      chart: ['telemetry', 'Telemetry messages/s', rate],
      derive: function (m, memory) {
        return {
          clients: value(m, 'mqtt_connections_active'),
          telemetry: perSecond(memory, 'telemetry', value(m, 'iotflow_telemetry_messages_total'), m.timestamp)
        };
      }
    },
    redis: {
      title: 'Redis',
      numbers: [['memory', 'Memory', bytes], ['hitRatio', 'Hit ratio', percent], ['clients', 'Clients', count]],
      chart: ['memory', 'Memory used', bytes],
      derive: function (m, memory) {
        var hits = perSecond(memory, 'hits', value(m, 'redis_cache_hits_total'), m.timestamp);
        var misses = perSecond(memory, 'misses', value(m, 'redis_cache_misses_total'), m.timestamp);
        // Since the previous collection when there were lookups, else since Redis started.
        var allHits = value(m, 'redis_cache_hits_total');
        var allMisses = value(m, 'redis_cache_misses_total');
        var ratio = defined(hits) && defined(misses) && hits + misses > 0 ? (100 * hits) / (hits + misses)
          : defined(allHits) && defined(allMisses) && allHits + allMisses > 0 ? (100 * allHits) / (allHits + allMisses) : undefined;
        return { memory: value(m, 'redis_memory_used_bytes'), hitRatio: ratio, clients: value(m, 'redis_connected_clients') };
      }
    },
    iotflow: {
      title: 'IoTFlow',
      numbers: [['devices', 'Devices', count], ['online', 'Online', count], ['users', 'Users', count]],
      chart: ['online', 'Devices online', count],
      derive: function (m) {
        return { devices: value(m, 'iotflow_devices_total'), online: value(m, 'iotflow_devices_online'), users: value(m, 'iotflow_users_total') };
      }
    },
    app: {
      title: 'Exporter',
      numbers: [['http', 'HTTP requests', rate], ['uptime', 'Uptime', duration], ['version', 'Version', String]],
      chart: ['http', 'HTTP requests/s', rate],
      derive: function (m) {
        var info = find(m, 'app_info');
        return { uptime: value(m, 'app_uptime_seconds'), version: info ? info.labels.version : undefined };
      }
    }
  };
  var GENERIC = { numbers: [], derive: function () { return {}; } };

  window.iotflowAreas = { AREAS: AREAS, GENERIC: GENERIC, perSecond: perSecond, defined: defined, rate: rate };
})();
`;
