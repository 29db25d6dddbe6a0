/** What an exclusion list needs: a Set of names, or NamePatterns. */
export interface NameSet {
  has(name: string): boolean;
}

/**
 * Names matched against shell-style patterns: `*` any run of characters, `?` one character,
 * anything else literal, the whole name matched (`veth*` does not match `xveth0`). Brackets,
 * braces and backslashes are refused rather than taken literally, so `eth[0-9]` cannot silently
 * match nothing.
 */
export class NamePatterns implements NameSet {
  private readonly literals: ReadonlySet<string>;
  private readonly wildcards: readonly RegExp[];

  private constructor(patterns: readonly string[]) {
    this.literals = new Set(patterns.filter((pattern) => !/[*?]/.test(pattern)));
    this.wildcards = patterns.filter((pattern) => /[*?]/.test(pattern)).map(toRegExp);
  }

  /** The patterns, or the first one that uses syntax beyond `*` and `?`. */
  static parse(patterns: readonly string[]): NamePatterns | { readonly invalid: string } {
    const invalid = patterns.find((pattern) => /[[\]{}\\]/.test(pattern));
    return invalid === undefined ? new NamePatterns(patterns) : { invalid };
  }

  /** Whether the name matches one of the patterns. */
  has(name: string): boolean {
    return this.literals.has(name) || this.wildcards.some((pattern) => pattern.test(name));
  }
}

function toRegExp(pattern: string): RegExp {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^$()|]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's');
}
