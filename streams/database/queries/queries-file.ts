import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { builtInPrefixOf, COLUMN_USAGES, familyName, METRIC_NAME, type ColumnUsage } from './family-names';
import { parseVersionRange, type VersionRange } from './server-version';

export interface ColumnMapping {
  readonly column: string;
  readonly usage: ColumnUsage;
  readonly description: string;
}

/** One top-level entry of the file: a query and what its columns mean. */
export interface QueryNamespace {
  /** The entry's key, the prefix of its families (`<namespace>_<column>`). */
  readonly namespace: string;
  readonly query: string;
  readonly columns: readonly ColumnMapping[];
  /** The result is kept this long and the query not run again meanwhile (0: every collection). */
  readonly cacheSeconds: number;
  /** Run only on servers in this range; undefined: on every server. */
  readonly runOnServer?: VersionRange;
}

export interface QueriesFile {
  readonly path: string;
  readonly namespaces: readonly QueryNamespace[];
}

/** A file that cannot be used; the message names the file, the line and the problem. */
export class QueriesFileError extends Error {
  override readonly name = 'QueriesFileError';
}

const NAMESPACE_KEYS = ['query', 'metrics', 'master', 'cache_seconds', 'runonserver'];
/** `metric_mapping` and `pg_version` are read and, as postgres_exporter 0.11 does for a queries file, not applied. */
const COLUMN_KEYS = ['usage', 'description', 'metric_mapping', 'pg_version'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Reads and checks the file; throws a QueriesFileError saying where and what is wrong. */
export function loadQueriesFile(path: string): QueriesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new QueriesFileError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseQueriesFile(path, text);
}

export function parseQueriesFile(path: string, text: string): QueriesFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const fail = (node: Node | undefined, problem: string): never => {
    const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : '';
    throw new QueriesFileError(`${path}${line}: ${problem}`);
  };
  const [syntaxError] = document.errors;
  if (syntaxError) throw new QueriesFileError(`${path}:${lines.linePos(syntaxError.pos[0]).line}: not valid YAML (${syntaxError.message.split('\n')[0]})`);
  const root = document.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { path, namespaces: [] };
  if (!isMap(root)) return fail(root, 'the file must be a mapping of namespaces (pg_example: {query: …, metrics: […]})');
  const namespaces = root.items.map(({ key, value }) => parseNamespace(key as Node, value as Node, fail));
  checkFamilyNames(namespaces, fail);
  return { path, namespaces: namespaces.map(({ parsed }) => parsed) };
}

type Fail = (node: Node | undefined, problem: string) => never;

interface ParsedNamespace {
  readonly parsed: QueryNamespace;
  /** Family name → the column's node, for the line of a collision. */
  readonly families: ReadonlyMap<string, Node>;
}

function scalarText(node: Node | undefined): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function parseNamespace(keyNode: Node, valueNode: Node | undefined, fail: Fail): ParsedNamespace {
  const namespace = isScalar(keyNode) ? String(keyNode.value) : fail(keyNode, 'a namespace name must be a plain word');
  if (!METRIC_NAME.test(namespace)) fail(keyNode, `namespace ${JSON.stringify(namespace)} cannot start a metric name (letters, digits, _ and :)`);
  if (!isMap(valueNode)) return fail(valueNode ?? keyNode, `namespace ${namespace} must be a mapping with query and metrics`);
  const entries = keysOf(valueNode, NAMESPACE_KEYS, `namespace ${namespace}`, fail);
  const query = scalarText(entries.get('query'));
  if (!query?.trim()) fail(entries.get('query') ?? keyNode, `namespace ${namespace} has no query`);
  // postgres_exporter skips a `master` namespace only on the databases it discovers itself; this
  // exporter queries the one database of DATABASE_URL, its master, so every namespace runs there.
  const master = entries.get('master');
  if (master && !(isScalar(master) && typeof master.value === 'boolean')) fail(master, `master of ${namespace} must be true or false`);
  const cache = entries.get('cache_seconds');
  const cacheSeconds = cache ? (isScalar(cache) ? Number(cache.value) : NaN) : 0;
  if (!Number.isSafeInteger(cacheSeconds) || cacheSeconds < 0) fail(cache, `cache_seconds of ${namespace} must be a whole number of seconds, 0 or more`);
  const runOnServerNode = entries.get('runonserver');
  let runOnServer: VersionRange | undefined;
  if (runOnServerNode) {
    const range = scalarText(runOnServerNode) ?? fail(runOnServerNode, `runonserver of ${namespace} must be a version range such as ">=12.0.0"`);
    try {
      runOnServer = range.trim() === '' ? undefined : parseVersionRange(range.trim());
    } catch (error) {
      fail(runOnServerNode, `runonserver of ${namespace}: ${(error as Error).message}`);
    }
  }
  const { columns, families } = parseColumns(namespace, entries.get('metrics'), fail);
  return { parsed: { namespace, query: query!, columns, cacheSeconds, runOnServer }, families };
}

/** The entries of a mapping by key, refusing a key not in `known`. */
function keysOf(map: YAMLMap, known: readonly string[], what: string, fail: Fail): Map<string, Node | undefined> {
  const entries = new Map<string, Node | undefined>();
  for (const { key, value } of map.items) {
    const name = isScalar(key) ? String(key.value) : '';
    if (!known.includes(name)) fail(key as Node, `${what} has the key ${JSON.stringify(name)}; the keys are ${known.join(', ')}`);
    entries.set(name, (value ?? undefined) as Node | undefined);
  }
  return entries;
}

function parseColumns(namespace: string, metrics: Node | undefined, fail: Fail) {
  if (metrics !== undefined && !isSeq(metrics)) fail(metrics, `metrics of ${namespace} must be a list of columns (- name: {usage: …})`);
  const columns: ColumnMapping[] = [];
  const columnNodes = new Map<string, Node>();
  for (const item of isSeq(metrics) ? (metrics.items as Node[]) : []) {
    if (!isMap(item)) fail(item, `each entry of metrics in ${namespace} must map a column to its usage`);
    for (const { key, value } of (item as YAMLMap).items) {
      const column = isScalar(key) ? String(key.value) : fail(key as Node, 'a column name must be a plain word');
      if (columnNodes.has(column)) fail(key as Node, `column ${column} of ${namespace} is declared twice`);
      columnNodes.set(column, key as Node);
      if (!isMap(value)) return fail((value ?? key) as Node, `column ${column} of ${namespace} must be a mapping with usage`);
      const options = keysOf(value, COLUMN_KEYS, `column ${column} of ${namespace}`, fail);
      const usage = scalarText(options.get('usage'));
      if (!COLUMN_USAGES.some((known) => known === usage)) {
        fail(options.get('usage') ?? (key as Node), `column ${column} of ${namespace} has usage ${JSON.stringify(usage ?? null)}; the usages are ${COLUMN_USAGES.join(', ')}`);
      }
      const description = options.get('description');
      if (description && !isScalar(description)) fail(description, `description of ${column} in ${namespace} must be text`);
      columns.push({ column, usage: usage as ColumnUsage, description: description ? String((description as { value: unknown }).value ?? '') : '' });
    }
  }
  const families = new Map<string, Node>();
  const claim = (name: string, node: Node) => {
    if (families.has(name)) fail(node, `two columns of ${namespace} make the metric name ${name}`);
    families.set(name, node);
  };
  for (const { column, usage } of columns) {
    const node = columnNodes.get(column)!;
    if (usage === 'LABEL' && (!LABEL_NAME.test(column) || column.startsWith('__'))) fail(node, `column ${column} of ${namespace} cannot be a label name`);
    if (usage === 'LABEL' && column === 'le' && columns.some((other) => other.usage === 'HISTOGRAM')) fail(node, `label le of ${namespace} is taken by its histogram's buckets`);
    if (usage === 'LABEL' || usage === 'DISCARD') continue;
    const family = familyName(namespace, column, usage);
    if (!METRIC_NAME.test(family)) fail(node, `column ${column} of ${namespace} makes ${JSON.stringify(family)}, not a metric name`);
    claim(family, node);
    if (usage === 'HISTOGRAM') {
      for (const part of ['_bucket', '_sum', '_count']) {
        if (columnNodes.has(column + part)) fail(columnNodes.get(column + part), `column ${column + part} of ${namespace} is a part of the histogram ${column}; declare only ${column}`);
        claim(family + part, node);
      }
    }
  }
  return { columns, families };
}

function checkFamilyNames(namespaces: readonly ParsedNamespace[], fail: Fail): void {
  const owners = new Map<string, string>();
  for (const { parsed, families } of namespaces) {
    for (const [family, node] of families) {
      const builtIn = builtInPrefixOf(family);
      if (builtIn) fail(node, `${family} would collide with the exporter's built-in families (${builtIn}…); choose another namespace`);
      const owner = owners.get(family);
      if (owner !== undefined) fail(node, `${family} is made by two columns (one in ${owner}, one in ${parsed.namespace})`);
      owners.set(family, parsed.namespace);
    }
  }
}
