/**
 * `node dist/bench/servers/telemetry-counter.js <mqttUrl> <messages> [publishers]`: runs bench/telemetry-rate.ts
 * (an MqttSource counting, separate publisher processes publishing) in a process of its own, so the
 * source under test never shares the bench runner's event loop, and prints the result as JSON.
 */
import { measureTelemetryRate } from '../telemetry-rate';

const [mqttUrl, messages, publishers = '1'] = process.argv.slice(2);
measureTelemetryRate({ mqttUrl: mqttUrl!, messages: Number(messages), publishers: Number(publishers) }).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`telemetry-counter: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
