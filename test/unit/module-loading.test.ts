import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tcpClientOptions } from '../../streams/mqtt-connect';

const DIST = path.join(__dirname, '..', '..', 'dist');

/** Runs `script` in a Node process of its own (dist/, built by the global setup) and returns what it printed as JSON. */
function run(script: string): unknown {
  const child = spawnSync(process.execPath, ['-e', `const DIST = ${JSON.stringify(DIST)};\n${script}`], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout);
}

// Each is RSS the service would hold for nothing (README, Footprint).
describe('modules the service does not need stay unloaded', () => {
  it('the uWS engine without the node engine or ws', () => {
    const loaded = run(`
      const { createContainer } = require(DIST + '/container');
      const { loadConfig } = require(DIST + '/streams/config');
      const { createLogger } = require(DIST + '/src/logger');
      const { TYPES } = require(DIST + '/src/tokens');
      const container = createContainer(loadConfig({ SOURCES: 'system,app' }), createLogger('silent'));
      container.get(TYPES.Registry);
      container.getAll(TYPES.MetricSource);
      const files = Object.keys(require.cache);
      console.log(JSON.stringify({
        ws: files.some((file) => file.includes('/node_modules/ws/')),
        nodeEngine: files.some((file) => file.endsWith('/node-http-server.js')),
      }));`);
    expect(loaded).toEqual({ ws: false, nodeEngine: false });
  });

  it("an mqtt:// client without mqtt.js's other transports (ws, SOCKS)", () => {
    const loaded = run(`
      const { connectMqtt } = require(DIST + '/streams/mqtt-connect');
      const client = connectMqtt('mqtt://127.0.0.1:1', { reconnectPeriod: 0, connectTimeout: 100 });
      client.on('close', () => {
        client.end(true);
        const files = Object.keys(require.cache);
        console.log(JSON.stringify(['ws', 'socks', 'ip-address', 'smart-buffer'].filter((name) => files.some((file) => file.includes('/node_modules/' + name + '/')))));
      });`);
    expect(loaded).toEqual([]);
  });
});

describe('tcpClientOptions', () => {
  it("derives what mqtt.js's connect() does from the URL, under the options given", () => {
    expect(tcpClientOptions('mqtt://user:p%40ss@broker.example:1884/?clientId=from-url', { clean: true })).toEqual({
      protocol: 'mqtt',
      host: 'broker.example',
      hostname: 'broker.example',
      port: 1884,
      username: 'user',
      password: 'p@ss',
      clientId: 'from-url',
      clean: true,
    });
    expect(tcpClientOptions('mqtts://[::1]', { clientId: 'given' })).toEqual({ protocol: 'mqtts', host: '::1', hostname: '::1', clientId: 'given' });
    expect(tcpClientOptions('tcp://localhost:1883', {})).toMatchObject({ protocol: 'tcp', port: 1883 });
  });

  it('leaves WebSocket URLs to mqtt.js', () => {
    expect(tcpClientOptions('ws://localhost:9001/mqtt', {})).toBeUndefined();
    expect(tcpClientOptions('wss://localhost:9001/mqtt', {})).toBeUndefined();
  });
});
