/**
 * PostgreSQL versions as postgres_exporter compares them: `major.minor.patch` semantic versions,
 * and `runonserver` ranges in blang/semver's syntax (`>=10.0.0 <14.0.0 || >=15.0.0`: comparators
 * joined by spaces all hold, `||` separates alternatives; `1.2` means `1.2.0`).
 */
export type Version = readonly [number, number, number];

export interface VersionRange {
  readonly text: string;
  includes(version: Version): boolean;
}

const COMPARATOR = /^(>=|<=|!=|==|>|<|=|!)?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const HOLDS: Record<string, (order: number) => boolean> = {
  '>': (order) => order > 0,
  '>=': (order) => order >= 0,
  '<': (order) => order < 0,
  '<=': (order) => order <= 0,
  '=': (order) => order === 0,
  '==': (order) => order === 0,
  '': (order) => order === 0,
  '!=': (order) => order !== 0,
  '!': (order) => order !== 0,
};

/** Parses a range; throws saying which comparator is not one. */
export function parseVersionRange(text: string): VersionRange {
  const alternatives = text.split('||').map((alternative) =>
    alternative.trim().split(/\s+/).map((comparator) => {
      const match = COMPARATOR.exec(comparator);
      if (!match) throw new Error(`${JSON.stringify(comparator)} is not a version comparator such as >=10.0.0 (in the range ${JSON.stringify(text)})`);
      const bound: Version = [Number(match[2]), Number(match[3] ?? 0), Number(match[4] ?? 0)];
      const holds = HOLDS[match[1] ?? ''];
      return (version: Version) => holds(compare(version, bound));
    }),
  );
  return { text, includes: (version) => alternatives.some((all) => all.every((holds) => holds(version))) };
}

/**
 * The server's version as postgres_exporter reads it from `version()` ("PostgreSQL 16.4 …" is
 * 16.4.0), here from `server_version_num` (160004; 90624 for 9.6.24).
 */
export function versionOf(serverVersionNum: number): Version {
  const major = Math.floor(serverVersionNum / 10000);
  return major >= 10 ? [major, serverVersionNum % 10000, 0] : [major, Math.floor(serverVersionNum / 100) % 100, serverVersionNum % 100];
}
