#!/usr/bin/env node
// @ts-check
// Writes prometheusrule.yaml (a Prometheus Operator PrometheusRule) from prometheus/rules/*.yml, so
// the cluster evaluates the very rules `promtool test rules` tests. Plain JavaScript: the project has
// no TypeScript runner, and this runs with `node` alone (yaml is a devDependency).
//
//   node deploy/kubernetes/generate-prometheusrule.js            rewrite prometheusrule.yaml
//   node deploy/kubernetes/generate-prometheusrule.js --check    exit 1 if it is out of date
//   --rules DIR, --out FILE                                       other places (the tests use them)
'use strict';
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const ROOT = path.join(__dirname, '..', '..');
const COMMAND = 'node deploy/kubernetes/generate-prometheusrule.js';

/**
 * The groups of every rule file in `rulesDir` (`*.yml`, `*.yaml`, by file name), in file order.
 * A missing directory gives no groups. Throws naming the file on anything that is not a rule file,
 * and on a group name used twice: one PrometheusRule holds them all, and Prometheus refuses that.
 * @param {string} rulesDir
 * @returns {unknown[]}
 */
function ruleGroups(rulesDir) {
  if (!existsSync(rulesDir)) return [];
  const files = readdirSync(rulesDir).filter((file) => /\.ya?ml$/.test(file)).sort();
  /** @type {Map<string, string>} */
  const seen = new Map();
  return files.flatMap((file) => {
    const parsed = YAML.parse(readFileSync(path.join(rulesDir, file), 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.groups)) {
      throw new Error(`${file}: not a Prometheus rule file (expected a top-level "groups" list)`);
    }
    for (const group of parsed.groups) {
      const name = group?.name;
      if (typeof name !== 'string') throw new Error(`${file}: a group without a name`);
      const other = seen.get(name);
      if (other !== undefined) throw new Error(`${file}: group "${name}" is also in ${other}`);
      seen.set(name, file);
    }
    return parsed.groups;
  });
}

/**
 * @param {string} rulesDir
 * @returns {string} the PrometheusRule manifest
 */
function renderPrometheusRule(rulesDir) {
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'iotflow-metrics', labels: { 'app.kubernetes.io/name': 'iotflow-metrics' } },
    spec: { groups: ruleGroups(rulesDir) },
  };
  const source = path.relative(ROOT, rulesDir) || rulesDir;
  return (
    `# Generated from ${source}/*.yml by ${COMMAND}: do not edit, change the rule files and run it.\n` +
    YAML.stringify(manifest, { lineWidth: 0 })
  );
}

function main() {
  const args = process.argv.slice(2);
  const option = (/** @type {string} */ name, /** @type {string} */ fallback) => {
    const index = args.indexOf(name);
    return index === -1 ? fallback : path.resolve(args[index + 1] ?? '');
  };
  const rulesDir = option('--rules', path.join(ROOT, 'prometheus', 'rules'));
  const out = option('--out', path.join(__dirname, 'prometheusrule.yaml'));
  const rendered = renderPrometheusRule(rulesDir);
  if (args.includes('--check')) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== rendered) {
      process.stderr.write(`${path.relative(ROOT, out)} is not what ${path.relative(ROOT, rulesDir)} gives: run ${COMMAND}\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(out, rendered);
}

try {
  main();
} catch (error) {
  process.stderr.write(`generate-prometheusrule: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
