import { readFileSync } from 'node:fs';
import path from 'node:path';
import { helpText, parseCommandLine } from '../../src/command-line';
import { ConfigError, loadGroup, type SettingDeclaration, type SettingsGroup } from '../../src/settings';
import { loadConfig, SETTINGS_GROUPS } from '../../streams/config';
import { defaultSourceNames, type SourceDefinition } from '../../streams/sources';

const declared: SettingDeclaration[] = SETTINGS_GROUPS.flatMap((group) => group.settings);

/** The variables of README's configuration table (a row may name two: `A` / `B`). */
function readmeSettingNames(): string[] {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \|/gm)].flatMap((match) => [...match[1].matchAll(/`([A-Z0-9_]+)`/g)].map((name) => name[1]));
}

describe('the settings declarations', () => {
  it('declare each variable once, across every group', () => {
    const names = declared.map(({ name }) => name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    expect(names.length).toBeGreaterThan(30);
  });

  it('are what the README documents, no more and no less', () => {
    expect(readmeSettingNames().sort()).toEqual(declared.map(({ name }) => name).sort());
  });

  it.each(declared.map((setting) => [setting.name]))('%s is read: a garbage value is refused naming it, or changes the configuration', (name) => {
    const garbage = 'x/y#z: w';
    const defaults = JSON.stringify(loadConfig({}), replacer);
    let changed: string | undefined;
    try {
      changed = JSON.stringify(loadConfig({ [name]: garbage }), replacer);
    } catch (error) {
      // A setting of a pair (TLS_CERT_FILE without TLS_KEY_FILE) may be refused through its partner, naming both.
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(name);
      return;
    }
    expect(changed).not.toBe(defaults);
  });

  it.each(declared.filter((setting) => setting.secret).map((setting) => [setting.name, setting.secret]))(
    '%s (secret: %s) is scrubbed: its value is among the secrets the engine and the sources hide',
    (name, secret) => {
      let value = 'admin:Hunter2Pw';
      if (secret === 'url') {
        const url = new URL(declared.find((setting) => setting.name === name)!.default!);
        url.username = 'admin';
        url.password = 'Hunter2Pw';
        value = url.href;
      }
      expect(loadConfig({ [name]: value }).secrets).toContain(secret === 'url' ? 'Hunter2Pw' : value);
    },
  );

  it('let a group read only what it declares', () => {
    const sloppy: SettingsGroup<string | undefined> = { title: 'sloppy', settings: [{ name: 'DECLARED', meaning: 'x' }], load: (read) => read.text('UNDECLARED') };
    expect(() => loadGroup(sloppy, { UNDECLARED: 'x' })).toThrow('the sloppy settings read UNDECLARED, which they do not declare');
  });
});

describe('sources off by default', () => {
  it('are left out of the default SOURCES, and enabled by naming them', () => {
    const row = (name: string, extra: Partial<SourceDefinition> = {}): SourceDefinition => ({ name, summary: name, load: () => class {} as never, ...extra });
    expect(defaultSourceNames([row('system'), row('rabbitmq', { enabledByDefault: false }), row('app')])).toEqual(['system', 'app']);
    expect([...loadConfig({}).sources]).toEqual(defaultSourceNames(require('../../streams/sources').SOURCE_TABLE));
  });
});

describe('the command line', () => {
  it('runs without arguments, and takes --help, -h, --version and -V alone', () => {
    expect(parseCommandLine([])).toEqual({ action: 'run' });
    expect(parseCommandLine(['--help']).action).toBe('help');
    expect(parseCommandLine(['-h']).action).toBe('help');
    expect(parseCommandLine(['--version']).action).toBe('version');
    expect(parseCommandLine(['-V']).action).toBe('version');
  });

  it('refuses anything else, naming it', () => {
    expect(parseCommandLine(['--web.listen-address=:9100'])).toEqual({ action: 'error', message: expect.stringContaining('"--web.listen-address=:9100"') });
    expect(parseCommandLine(['--help', 'extra'])).toEqual({ action: 'error', message: expect.stringContaining('"extra"') });
  });

  it('--help lists every setting with its default and meaning, secrets marked', () => {
    const help = helpText(SETTINGS_GROUPS, '9.9.9');
    for (const setting of declared) {
      const entry = help.slice(help.indexOf(`  ${setting.name}`)).split('\n').slice(0, 3);
      expect(entry[0].trim()).toBe(`${setting.name}${setting.secret ? ' (secret)' : ''}`);
      expect(entry[1].trim()).toBe(setting.meaning);
      expect(entry[2].trim()).toBe(`default: ${setting.defaultText ?? (setting.default === undefined ? 'unset' : JSON.stringify(setting.default))}`);
    }
    for (const group of SETTINGS_GROUPS) expect(help).toContain(`${group.title[0].toUpperCase()}${group.title.slice(1)}:`);
  });
});

/** JSON of a configuration: sets as arrays, patterns by their text. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value];
  return value;
}
