import type { SettingDeclaration, SettingsGroup } from './settings';

/** What the command line asks for: run the service, or print help or the version and exit. */
export type CommandLine = { readonly action: 'run' } | { readonly action: 'help' } | { readonly action: 'version' } | { readonly action: 'error'; readonly message: string };

/**
 * The exporter takes its settings from the environment, as a container does; the command line only
 * asks for help or the version. Anything else is refused rather than ignored, so a flag meant for
 * another exporter (`--web.listen-address`) does not start the service on defaults unnoticed.
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  if (args.length === 0) return { action: 'run' };
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) return { action: 'help' };
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) return { action: 'version' };
  const unknown = args.find((arg) => !['--help', '-h', '--version', '-V'].includes(arg)) ?? args[1];
  return { action: 'error', message: `unknown argument ${JSON.stringify(unknown)}: iotflow-metrics takes --help or --version; its settings are environment variables (see --help)` };
}

const defaultOf = (setting: SettingDeclaration): string => setting.defaultText ?? (setting.default === undefined ? 'unset' : JSON.stringify(setting.default));

/** `--help`: usage, then every setting of every group with its default and meaning. */
export function helpText(groups: readonly Pick<SettingsGroup<unknown>, 'title' | 'settings'>[], version: string): string {
  const lines = [
    `iotflow-metrics ${version}: host, PostgreSQL, MQTT, Redis and IoTFlow metrics for Prometheus`,
    '',
    'Usage: iotflow-metrics [--help | --version]',
    '',
    'Settings are environment variables, checked at start: a bad value stops the process with exit',
    'code 2 naming the variable. Secret ones are never logged nor shown.',
  ];
  for (const group of groups) {
    lines.push('', `${group.title[0].toUpperCase()}${group.title.slice(1)}:`);
    for (const setting of group.settings) {
      lines.push(`  ${setting.name}${setting.secret ? ' (secret)' : ''}`, `      ${setting.meaning}`, `      default: ${defaultOf(setting)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
