import type { Registry } from 'prom-client';
import type { ExposedFamily } from './exposed-metric';

/**
 * Which source each family of a registry belongs to, for `/metrics?collect[]=`. The sink records
 * the sources' families and the collector_* families (one series per source, by `source` label).
 * Every other family — HTTP requests, database query timing, the live stream, prom-client's
 * process and Node.js metrics — is the exporter process's own and belongs to `app`, the source
 * that reports this service.
 */
export class FamilyOwners {
  private readonly owners = new Map<string, string>();
  private readonly bySourceLabel = new Set<string>();

  own(family: string, source: string): void {
    this.owners.set(family, source);
  }

  /** A family with one series per source, told apart by its `source` label. */
  ownBySourceLabel(family: string): void {
    this.bySourceLabel.add(family);
  }

  ownerOf(family: string): string {
    return this.owners.get(family) ?? OWNER_OF_PROCESS_FAMILIES;
  }

  labelledBySource(family: string): boolean {
    return this.bySourceLabel.has(family);
  }
}

/** The source the exporter's own families belong to. */
export const OWNER_OF_PROCESS_FAMILIES = 'app';

const ownersByRegistry = new WeakMap<Registry, FamilyOwners>();

export function familyOwnersOf(registry: Registry): FamilyOwners {
  let owners = ownersByRegistry.get(registry);
  if (!owners) ownersByRegistry.set(registry, (owners = new FamilyOwners()));
  return owners;
}

/** The sources one scrape asked for (`collect[]=`) or asked to leave out (`exclude[]=`). */
export class SourceSelection {
  constructor(
    private readonly owners: FamilyOwners,
    private readonly sources: ReadonlySet<string>,
    private readonly excluded: boolean,
  ) {}

  /** Whether the family has any series to serve: read it only then. */
  readsFamily(name: string): boolean {
    return this.owners.labelledBySource(name) || this.selects(this.owners.ownerOf(name));
  }

  /** The family with only the selected sources' series. */
  restrict(family: ExposedFamily): ExposedFamily {
    if (!this.owners.labelledBySource(family.name)) return family;
    return { name: family.name, help: family.help, type: family.type, values: family.values.filter(({ labels }) => this.selects(String(labels.source))) };
  }

  /** A stable name of the selection, for keeping what was made of it (compressed bodies). */
  get key(): string {
    return `${this.excluded ? 'exclude' : 'collect'}:${[...this.sources].sort().join(',')}`;
  }

  private selects(source: string): boolean {
    return this.sources.has(source) !== this.excluded;
  }
}

/**
 * The selection of a query string: `collect[]=a&collect[]=b` (only those sources) or
 * `exclude[]=a` (all but those), as node_exporter takes them; undefined when the query names
 * neither (every family). Other parameters are ignored. Throws an Error saying what is wrong
 * with a name not in `knownSources`, or with both lists given.
 */
export function parseSourceSelection(query: string, knownSources: readonly string[], owners: FamilyOwners): SourceSelection | undefined {
  if (query === '') return undefined;
  const parameters = new URLSearchParams(query);
  const collect = parameters.getAll('collect[]');
  const exclude = parameters.getAll('exclude[]');
  if (collect.length === 0 && exclude.length === 0) return undefined;
  if (collect.length > 0 && exclude.length > 0) throw new Error('collect[] and exclude[] cannot be combined in one scrape');
  const names = collect.length > 0 ? collect : exclude;
  const unknown = names.filter((name) => !knownSources.includes(name));
  if (unknown.length > 0) {
    const list = unknown.map((name) => JSON.stringify(name)).join(', ');
    throw new Error(`unknown source ${list} in ${collect.length > 0 ? 'collect[]' : 'exclude[]'}; the sources are ${knownSources.join(', ')}`);
  }
  return new SourceSelection(owners, new Set(names), exclude.length > 0);
}
