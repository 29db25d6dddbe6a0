import type { ServiceIdentifier } from 'inversify';
import { type Cidr, parseCidr } from './http/cidr';
import { NamePatterns } from './name-patterns';
import { urlSecrets } from './redact';

/** The environment the settings are read from. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * One environment variable: its name, its default as one would write it, and what it means. The
 * declarations are the single list `--help`, the README's table and the secret scrubber read.
 */
export interface SettingDeclaration {
  readonly name: string;
  /** The value used when the variable is unset or blank; absent: unset, or computed (`defaultText`). */
  readonly default?: string;
  /** The default in words where it is computed from other settings. */
  readonly defaultText?: string;
  /** One line: what the setting does. */
  readonly meaning: string;
  /**
   * The value is secret: never logged nor echoed in an error, and scrubbed from every message that
   * leaves the process. `url`: the password and query values of a URL are; `value`: all of it is.
   */
  readonly secret?: 'url' | 'value';
}

/**
 * The settings of one part of the service (the core, the database connection, a source): the
 * variables it declares, and how it turns them into its typed values. `load` reads only declared
 * variables (the reader refuses others) and throws ConfigError on the first bad value.
 */
export interface SettingsGroup<T> {
  /** Who reads these settings, as `--help` titles them: 'server', 'redis source'. */
  readonly title: string;
  readonly settings: readonly SettingDeclaration[];
  readonly load: (read: SettingsReader) => T;
  /** Where the container binds the loaded values, for a part that injects them (a source). */
  readonly token?: ServiceIdentifier<T>;
}

/** A configuration value that cannot be used: names the variable and what it expects. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    received: string,
  ) {
    super(`${variable}=${JSON.stringify(received)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

/** Reads one group's declared variables from the environment, validating as it goes. */
export class SettingsReader {
  constructor(
    private readonly env: Env,
    private readonly group: Pick<SettingsGroup<unknown>, 'title' | 'settings'>,
  ) {}

  private declaration(name: string): SettingDeclaration {
    const declaration = this.group.settings.find((setting) => setting.name === name);
    if (declaration === undefined) throw new Error(`the ${this.group.title} settings read ${name}, which they do not declare`);
    return declaration;
  }

  /** The value as set (trimmed), or undefined when unset or blank; the default is not applied. */
  given(name: string): string | undefined {
    this.declaration(name);
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  /** True when the variable is present in the environment at all, even empty. */
  present(name: string): boolean {
    this.declaration(name);
    return this.env[name] !== undefined;
  }

  /** The value as set, else the declared default. */
  text(name: string): string | undefined {
    return this.given(name) ?? this.declaration(name).default;
  }

  integer(name: string, min: number, max: number, fallback?: number): number {
    const raw = this.text(name);
    if (raw === undefined) return this.computed(name, fallback);
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
    return value;
  }

  seconds(name: string, max: number, fallback?: number): number {
    const raw = this.given(name) ?? (fallback === undefined ? this.declaration(name).default : undefined);
    if (raw === undefined) return this.computed(name, fallback);
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value > 0) || value > max) throw new ConfigError(name, `a positive number of seconds, at most ${max}`, raw);
    return value;
  }

  /** Requests per second, 0 meaning no limit. */
  rate(name: string): number {
    const raw = this.text(name) ?? '0';
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value <= 100_000)) throw new ConfigError(name, 'requests per second from 0 (off) to 100000', raw);
    return value;
  }

  /** A URL with one of `schemes` and a host. The message shows the scheme only: the rest may hold a password. */
  url(name: string, schemes: readonly string[]): string {
    const raw = this.text(name) ?? '';
    const expected = `a URL with scheme ${schemes.map((scheme) => `${scheme}://`).join(' or ')}`;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, expected, '<not a URL>');
    }
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) throw new ConfigError(name, expected, `${parsed.protocol}//…`);
    if (!parsed.hostname) throw new ConfigError(name, `${expected} and a host`, `${parsed.protocol}//…`);
    return raw;
  }

  /** Comma-separated items, blanks dropped. */
  list(name: string): string[] {
    return (this.text(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** Comma-separated items, each one of `choices`. */
  listOf<C extends string>(name: string, choices: readonly C[]): C[] {
    const items = this.list(name);
    const unknown = items.find((item) => !(choices as readonly string[]).includes(item));
    if (unknown !== undefined) throw new ConfigError(name, `a comma-separated list of ${choices.join(', ')} (${JSON.stringify(unknown)} is none of them)`, this.text(name) ?? '');
    return items as C[];
  }

  /** One of `choices`. */
  choice<C extends string>(name: string, choices: readonly C[]): C {
    const raw = this.text(name) ?? '';
    if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(name, choices.join(', '), raw);
    return raw as C;
  }

  boolean(name: string): boolean {
    const raw = this.text(name) ?? '';
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, 'true or false', raw);
    return raw === 'true';
  }

  cidrs(name: string): Cidr[] {
    return this.list(name).map((item) => {
      const cidr = parseCidr(item);
      if ('error' in cidr) throw new ConfigError(name, `comma-separated IPv4/IPv6 addresses or CIDRs (${cidr.error})`, this.text(name) ?? '');
      return cidr;
    });
  }

  namePatterns(name: string): NamePatterns {
    const patterns = NamePatterns.parse(this.list(name));
    if ('invalid' in patterns) {
      throw new ConfigError(name, `comma-separated names or patterns with only * and ? as wildcards (${JSON.stringify(patterns.invalid)} uses others)`, this.text(name) ?? '');
    }
    return patterns;
  }

  absolutePath(name: string): string {
    const raw = this.text(name) ?? '';
    if (!raw.startsWith('/')) throw new ConfigError(name, 'an absolute path', raw);
    return raw;
  }

  /** A secret matching `pattern`; its value is never echoed: the message says only what is wrong. */
  secret(name: string, pattern: RegExp, expected: string): string | undefined {
    const raw = this.given(name);
    if (raw !== undefined && !pattern.test(raw)) throw new ConfigError(name, expected, '<hidden>');
    return raw;
  }

  private computed(name: string, fallback: number | undefined): number {
    if (fallback === undefined) throw new Error(`the ${this.group.title} settings read ${name} with no default`);
    return fallback;
  }
}

/** Loads one group from the environment. */
export function loadGroup<T>(group: SettingsGroup<T>, env: Env): T {
  return group.load(new SettingsReader(env, group));
}

/**
 * Every form in which the secret settings' values could leave the process, for the scrubber: a
 * URL's password and query values, or a secret's whole value. Defaults count too (a default URL
 * may carry a password).
 */
export function secretsOf(groups: readonly Pick<SettingsGroup<unknown>, 'settings'>[], env: Env): string[] {
  return groups.flatMap(({ settings }) =>
    settings.flatMap((setting) => {
      const value = env[setting.name]?.trim() || setting.default;
      if (value === undefined || setting.secret === undefined) return [];
      return setting.secret === 'url' ? urlSecrets(value) : [value];
    }),
  );
}
