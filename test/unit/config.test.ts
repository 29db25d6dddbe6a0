import { ConfigError } from '../../src/settings';
import { loadConfig } from '../../streams/config';

const errorOf = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
};

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(5000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.collectionIntervalSeconds).toBe(15);
    expect(config.collectionTimeoutSeconds).toBe(7.5);
    expect([...config.sources]).toEqual(['system', 'app', 'database', 'iotflow', 'redis', 'mqtt']);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.mqttUrl).toBe('mqtt://127.0.0.1:1883');
    expect(config.mqttTelemetryTopic).toBe('iotflow/devices/+/telemetry/#');
  });

  it('caps the default timeout at 10 s and keeps it at half a short interval', () => {
    expect(loadConfig({ COLLECTION_INTERVAL_SECONDS: '60' }).collectionTimeoutSeconds).toBe(10);
    expect(loadConfig({ COLLECTION_INTERVAL_SECONDS: '1' }).collectionTimeoutSeconds).toBe(0.5);
  });

  it('issue 14: telemetry is shared in group iotflow-metrics by default; an empty MQTT_SHARE_GROUP turns sharing off', () => {
    expect(loadConfig({}).mqttShareGroup).toBe('iotflow-metrics');
    expect(loadConfig({ MQTT_SHARE_GROUP: 'fleet-a' }).mqttShareGroup).toBe('fleet-a');
    expect(loadConfig({ MQTT_SHARE_GROUP: '' }).mqttShareGroup).toBeUndefined();
    for (const group of ['a/b', 'a+', '#']) {
      expect(errorOf({ MQTT_SHARE_GROUP: group }).message).toBe(
        `MQTT_SHARE_GROUP="${group}" is invalid: expected a shared-subscription group name without /, + or # (empty: no sharing)`,
      );
    }
  });

  it('issue 14: CLUSTER_ELECTION is off by default and takes true or false', () => {
    expect(loadConfig({}).clusterElection).toBe(false);
    expect(loadConfig({ CLUSTER_ELECTION: 'true' }).clusterElection).toBe(true);
    expect(errorOf({ CLUSTER_ELECTION: 'yes' }).message).toBe('CLUSTER_ELECTION="yes" is invalid: expected true or false');
  });

  it('accepts a subset of sources', () => {
    expect([...loadConfig({ SOURCES: 'system, redis' }).sources]).toEqual(['system', 'redis']);
  });

  it('budgets the exact row counts of a collection: 200000 rows by default, a whole number of rows from 0', () => {
    expect(loadConfig({}).dbExactCountBudgetRows).toBe(200_000);
    expect(loadConfig({ DB_EXACT_COUNT_BUDGET_ROWS: '0' }).dbExactCountBudgetRows).toBe(0);
    for (const raw of ['-1', '1e6', 'lots']) {
      expect(errorOf({ DB_EXACT_COUNT_BUDGET_ROWS: raw }).message).toBe(`DB_EXACT_COUNT_BUDGET_ROWS="${raw}" is invalid: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
    }
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'integer from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT', 'integer from 0 to 65535'],
    [{ PORT: '-1' }, 'PORT', 'integer from 0 to 65535'],
    [{ COLLECTION_INTERVAL_SECONDS: '-5' }, 'COLLECTION_INTERVAL_SECONDS', 'positive number of seconds'],
    [{ COLLECTION_INTERVAL_SECONDS: 'soon' }, 'COLLECTION_INTERVAL_SECONDS', 'positive number of seconds'],
    [{ COLLECTION_INTERVAL_SECONDS: '0' }, 'COLLECTION_INTERVAL_SECONDS', 'positive number of seconds'],
    [{ SOURCES: 'system,kafka' }, 'SOURCES', 'comma-separated list'],
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, 'DATABASE_URL', 'postgres://'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'postgres://'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL', 'redis://'],
    [{ MQTT_URL: 'localhost:1883' }, 'MQTT_URL', 'mqtt://'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'debug, info, warn, error, silent'],
    [{ MQTT_TELEMETRY_TOPIC: 'a/#/b' }, 'MQTT_TELEMETRY_TOPIC', 'topic filter'],
    [{ SYSTEM_PROC_ROOT: 'host/proc' }, 'SYSTEM_PROC_ROOT', 'an absolute path'],
  ])('rejects %j naming %s', (env, variable, expected) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(expected);
  });

  it('never echoes a URL that may hold a password', () => {
    const error = errorOf({ REDIS_URL: 'http://user:hunter2@localhost:6379' });
    expect(error.message).not.toContain('hunter2');
  });

  it('case 13: NETWORK_INTERFACES_EXCLUDED and DISK_FSTYPES_EXCLUDED take anchored * and ? patterns', () => {
    const config = loadConfig({ NETWORK_INTERFACES_EXCLUDED: 'lo,tap?,vnet*', DISK_FSTYPES_EXCLUDED: 'tmpfs,fuse.*' });
    const interfaces = ['lo', 'tap0', 'tap10', 'vnet12', 'xvnet1', 'eth0', 'lo0'];
    expect(interfaces.filter((name) => config.networkInterfacesExcluded.has(name))).toEqual(['lo', 'tap0', 'vnet12']);
    const fstypes = ['tmpfs', 'fuse.sshfs', 'fuse', 'fusexsshfs', 'ext4'];
    expect(fstypes.filter((type) => config.diskFsTypesExcluded.has(type))).toEqual(['tmpfs', 'fuse.sshfs']);
  });

  it.each([
    [{ NETWORK_INTERFACES_EXCLUDED: 'lo,eth[0-9]' }, 'NETWORK_INTERFACES_EXCLUDED', '"eth[0-9]"'],
    [{ DISK_FSTYPES_EXCLUDED: 'tmpfs,{nfs,cifs}' }, 'DISK_FSTYPES_EXCLUDED', '"{nfs"'],
  ])('case 13: a pattern using more than * and ? is rejected: %j', (env, variable, pattern) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(pattern);
    expect(error.message).toContain('only * and ? as wildcards');
  });
});
