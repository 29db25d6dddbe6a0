import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The layers import one way: src (contracts, tokens, infrastructure) <- streams (collectors, engine,
// source table) <- container (modules and entry points). Types count: `import type` ties the layers
// as much as a value does.

const ROOT = path.join(__dirname, '..', '..');
const LAYERS = ['src', 'streams', 'container'] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import besides itself. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = { src: [], streams: ['src'], container: ['src', 'streams'] };

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Every relative module a file names: import/export … from, import(), require(), import 'x'. */
export function importedPaths(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((match) => match[1]);
  return specifiers.map((specifier) => path.normalize(path.join(path.dirname(file), specifier)));
}

const layerOf = (file: string): string => file.split(path.sep)[0];

const imports = LAYERS.flatMap((layer) =>
  sourceFiles(layer).flatMap((file) => importedPaths(file, readFileSync(path.join(ROOT, file), 'utf8')).map((target) => ({ layer, file, target: layerOf(target) }))),
);

describe('imports run one way: src <- streams <- container', () => {
  it('finds the imports it judges (the scan is not empty)', () => {
    for (const layer of LAYERS) expect(imports.some((edge) => edge.layer === layer)).toBe(true);
    expect(imports.some(({ layer, target }) => layer === 'container' && target === 'streams')).toBe(true);
  });

  it.each(LAYERS)('%s imports only itself and the layers beneath it', (layer) => {
    const allowed = new Set<string>([layer, ...MAY_IMPORT[layer]]);
    const wrong = imports.filter((edge) => edge.layer === layer && !allowed.has(edge.target)).map(({ file, target }) => `${file} -> ${target}/`);
    expect(wrong).toEqual([]);
  });

  it('sees every form of import, types included', () => {
    const forms = [
      "import type { A } from '../streams/a';",
      "import { B } from '../streams/b';",
      "export { C } from '../streams/c';",
      "const d = require('../streams/d');",
      "type E = typeof import('../streams/e');",
      "import '../streams/f';",
    ];
    expect(forms.map((line) => importedPaths('src/x.ts', line).map(layerOf))).toEqual(forms.map(() => ['streams']));
  });
});
