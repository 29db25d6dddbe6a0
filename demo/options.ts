export interface DemoOptions {
  readonly devices: number;
  /** MQTT telemetry messages a second. */
  readonly rate: number;
  /** HTTP requests a second to the device API. */
  readonly httpRate: number;
  readonly database: string;
  readonly keepDatabase: boolean;
  readonly prometheus: boolean;
  readonly prometheusPort: number;
  readonly help: boolean;
}

export const DEMO_USAGE = `usage: npm run demo -- [options]

  --devices N           devices in the fleet (default 1000)
  --rate N              MQTT telemetry messages a second (default 50)
  --http-rate N         requests a second to the device API (default 10)
  --database NAME       the demo's own database (default iotflow_demo); replaced if a
                        previous demo left it, refused if anything else has that name
  --keep-database       leave the database in place at exit, for inspection
  --prometheus          also run Prometheus (/usr/bin/prometheus) scraping the exporter,
                        with the rules of prometheus/rules/*.yml
  --prometheus-port N   its port (default 9090)
  --help                this text

The exporter takes its usual variables (PORT, HOST, COLLECTION_INTERVAL_SECONDS, ...), as
with npm start. DATABASE_URL, REDIS_URL and MQTT_URL choose the servers (default: this
machine's); the database in DATABASE_URL is only used to create the demo's own.`;

export class DemoUsageError extends Error {}

const DEFAULTS: DemoOptions = {
  devices: 1000,
  rate: 50,
  httpRate: 10,
  database: 'iotflow_demo',
  keepDatabase: false,
  prometheus: false,
  prometheusPort: 9090,
  help: false,
};

/** Parses the command line; a bad argument is a DemoUsageError naming it. */
export function parseDemoOptions(argv: readonly string[]): DemoOptions {
  const options: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = { ...DEFAULTS };
  const numeric = (flag: string, raw: string | undefined, min: number, max: number, integer: boolean): number => {
    const value = raw !== undefined && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
      throw new DemoUsageError(`${flag} ${raw === undefined ? '(missing)' : JSON.stringify(raw)} is invalid: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--devices': options.devices = numeric(flag, value(), 1, 1_000_000, true); break;
      case '--rate': options.rate = numeric(flag, value(), 0.1, 100_000, false); break;
      case '--http-rate': options.httpRate = numeric(flag, value(), 0, 10_000, false); break;
      case '--prometheus-port': options.prometheusPort = numeric(flag, value(), 1, 65535, true); break;
      case '--database': {
        const name = value();
        if (name === undefined || !/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
          throw new DemoUsageError(`--database ${JSON.stringify(name ?? '(missing)')} is invalid: expected lower-case letters, digits and _ (at most 63, not starting with a digit)`);
        }
        options.database = name;
        break;
      }
      case '--keep-database': options.keepDatabase = true; break;
      case '--prometheus': options.prometheus = true; break;
      case '--help': case '-h': options.help = true; break;
      default: throw new DemoUsageError(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  return options;
}
