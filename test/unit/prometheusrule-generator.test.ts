import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { type Doc, K8S, one, parseAll, read, ROOT, schemaErrors } from '../support/kubernetes';

const GENERATOR = path.join(K8S, 'generate-prometheusrule.js');

function generate(...args: string[]) {
  return spawnSync(process.execPath, [GENERATOR, ...args], { cwd: ROOT, encoding: 'utf8' });
}

function ruleGroupsOf(dir: string): unknown[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file)).sort();
  } catch {
    return [];
  }
  return files.flatMap((file) => (YAML.parse(readFileSync(path.join(dir, file), 'utf8')) as Doc).groups as unknown[]);
}

describe('the PrometheusRule generated from prometheus/rules', () => {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(path.join(os.tmpdir(), 'iotflow-prometheusrule-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('the committed prometheusrule.yaml is what prometheus/rules gives', () => {
    const check = generate('--check');
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(one('PrometheusRule').spec.groups).toEqual(ruleGroupsOf(path.join(ROOT, 'prometheus', 'rules')));
  });

  it('carries every group and rule of the rule files, in file order, and is valid', () => {
    const out = path.join(scratch, 'prometheusrule.yaml');
    const run = generate('--rules', 'test/fixtures/prometheus-rules', '--out', out);
    expect([run.status, run.stderr]).toEqual([0, '']);
    const [rule] = parseAll(readFileSync(out, 'utf8'), out);
    expect(rule.spec.groups.map((group: Doc) => group.name)).toEqual(['example.alerts', 'example.rules', 'example.settings']);
    expect(rule.spec.groups).toEqual(ruleGroupsOf(path.join(ROOT, 'test', 'fixtures', 'prometheus-rules')));
    expect(rule.metadata).toEqual(one('PrometheusRule').metadata);
    expect(schemaErrors([rule])).toEqual([null]);
  });

  it('--check fails, naming the command, when the PrometheusRule is out of date', () => {
    const out = path.join(scratch, 'prometheusrule.yaml');
    writeFileSync(out, read('prometheusrule.yaml').replace(/groups:.*[\s\S]*$/, 'groups: []\n'));
    const check = generate('--rules', 'test/fixtures/prometheus-rules', '--out', out, '--check');
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('run node deploy/kubernetes/generate-prometheusrule.js');
  });

  it('refuses a group name used in two rule files, naming both', () => {
    const rules = path.join(scratch, 'rules');
    const fixture = readFileSync(path.join(ROOT, 'test', 'fixtures', 'prometheus-rules', 'example.rules.yml'), 'utf8');
    mkdirSync(rules);
    writeFileSync(path.join(rules, 'a.yml'), fixture);
    writeFileSync(path.join(rules, 'b.yml'), fixture);
    const run = generate('--rules', rules, '--out', path.join(scratch, 'out.yaml'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('b.yml: group "example.rules" is also in a.yml');
  });
});
