import { spawn } from 'node:child_process';

/**
 * A burst of telemetry from a separate Node process: `count` QoS 1 messages, as fast as one mqtt.js
 * client sends them, round-robin to <topicRoot>/bench-<i>/telemetry/sensors (i < devices). Its
 * own process, so publishing does not share the event loop of whatever counts the messages.
 */
export interface TelemetryBurst {
  /** When the publisher was connected and began sending (epoch ms). */
  readonly started: Promise<number>;
  /** When every PUBACK had arrived, and how many messages went out. */
  readonly finished: Promise<{ finishedAtMs: number; count: number }>;
}

const PUBLISHER = `
const [mqttPath, url, topicRoot, count, devices] = process.argv.slice(1);
const { connectAsync } = require(mqttPath);
(async () => {
  const client = await connectAsync(url, { clean: true, clientId: 'iotflow-bench-' + process.pid });
  const payload = JSON.stringify({ temperature: 21.5, humidity: 40 });
  process.stdout.write('started ' + Date.now() + '\\n');
  const acks = [];
  for (let i = 0; i < Number(count); i++) {
    acks.push(client.publishAsync(topicRoot + '/bench-' + (i % Number(devices)) + '/telemetry/sensors', payload, { qos: 1 }));
  }
  await Promise.all(acks);
  process.stdout.write('finished ' + Date.now() + ' ' + acks.length + '\\n');
  await client.endAsync();
})().catch((error) => { process.stderr.write(String(error)); process.exit(1); });
`;

export function publishTelemetryBurst(mqttUrl: string, topicRoot: string, count: number, devices: number): TelemetryBurst {
  const child = spawn(process.execPath, ['-e', PUBLISHER, require.resolve('mqtt'), mqttUrl, topicRoot, String(count), String(devices)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = (word: string) =>
    new Promise<string[]>((resolve, reject) => {
      const check = () => {
        const match = new RegExp(`^${word} (.*)$`, 'm').exec(stdout);
        if (match) resolve(match[1]!.split(' '));
      };
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        check();
      });
      child.on('exit', (code) => reject(new Error(`publisher exited with ${code} before "${word}": ${stderr}`)));
    });
  const started = line('started').then(([at]) => Number(at));
  const finished = line('finished').then(([at, published]) => ({ finishedAtMs: Number(at), count: Number(published) }));
  finished.catch(() => undefined); // awaited later; a failure before 'started' is reported there
  return { started, finished };
}
