/**
 * `node dist/bench/servers/telemetry-counter.js <mqttUrl> <messages> [publishers] [replicas]`: runs
 * bench/telemetry-rate.ts (replica processes counting, publisher processes publishing) from a process
 * of its own, so its polling never shares the bench runner's event loop, and prints the result as JSON.
 */
import { measureTelemetryRate } from '../telemetry-rate';

const [mqttUrl, messages, publishers = '1', replicas = '1'] = process.argv.slice(2);
measureTelemetryRate({ mqttUrl: mqttUrl!, messages: Number(messages), publishers: Number(publishers), replicas: Number(replicas) }).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`telemetry-counter: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
