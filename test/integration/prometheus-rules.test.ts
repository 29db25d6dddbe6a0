import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/service';

const RULES_DIR = path.join(ROOT, 'prometheus', 'rules');
const TESTS_DIR = path.join(ROOT, 'prometheus', 'tests');
const ruleFiles = readdirSync(RULES_DIR).filter((name) => name.endsWith('.yml')).map((name) => path.join(RULES_DIR, name));
const testFiles = readdirSync(TESTS_DIR).filter((name) => name.endsWith('.test.yml')).map((name) => path.join(TESTS_DIR, name));

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface RuleTestFile {
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
    promql_expr_test?: { expr: string }[];
  }[];
}

const rules = ruleFiles.flatMap((file) => (parse(readFileSync(file, 'utf8')) as RuleGroups).groups.flatMap((group) => group.rules));
const ruleTests = testFiles.flatMap((file) => (parse(readFileSync(file, 'utf8')) as RuleTestFile).tests);

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the shipped Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const result = promtool('check', 'rules', ...ruleFiles);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const result = promtool('test', 'rules', ...testFiles);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.status).toBe(0);
  });

  it('are loaded by prometheus/prometheus.yml (promtool check config finds every rule file)', () => {
    const result = promtool('check', 'config', path.join(ROOT, 'prometheus', 'prometheus.yml'));
    expect(result.status).toBe(0);
    for (const file of ruleFiles) expect(result.output).toContain(path.basename(file));
  });

  it('give every alert a test that makes it fire and one that keeps it quiet', () => {
    const alerts = rules.flatMap((rule) => (rule.alert ? [rule.alert] : []));
    expect(alerts.length).toBeGreaterThan(0);
    const evaluations = ruleTests.flatMap((test) => test.alert_rule_test ?? []);
    const missing = alerts.flatMap((alert) => {
      const ofAlert = evaluations.filter((evaluation) => evaluation.alertname === alert);
      return [
        ...(ofAlert.some((evaluation) => (evaluation.exp_alerts ?? []).length > 0) ? [] : [`${alert}: no firing test`]),
        ...(ofAlert.some((evaluation) => (evaluation.exp_alerts ?? []).length === 0) ? [] : [`${alert}: no quiet test`]),
      ];
    });
    expect(missing).toEqual([]);
  });

  it('give every recording rule a test of its value', () => {
    const recorded = rules.flatMap((rule) => (rule.record ? [rule.record] : []));
    const tested = new Set(ruleTests.flatMap((test) => (test.promql_expr_test ?? []).map((evaluation) => evaluation.expr.trim())));
    expect(recorded.filter((name) => !tested.has(name))).toEqual([]);
  });

  it('give every alert a severity, a summary and a description', () => {
    const incomplete = rules
      .filter((rule) => rule.alert)
      .filter((rule) => {
        const { labels, annotations } = rule as { labels?: { severity?: string }; annotations?: { summary?: string; description?: string } };
        return !['critical', 'warning', 'info'].includes(labels?.severity ?? '') || !annotations?.summary || !annotations.description;
      })
      .map((rule) => rule.alert);
    expect(incomplete).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { volumes?: string[]; depends_on?: string[] }>;
  };
  const mounts = (service: string) =>
    (compose.services[service]?.volumes ?? []).map((volume) => {
      const [source, target] = volume.split(':');
      return { source: path.resolve(ROOT, source), target };
    });

  it('gives Prometheus the prometheus/ directory, so prometheus.yml finds the rules beside it', () => {
    expect(mounts('prometheus')).toContainEqual({ source: path.join(ROOT, 'prometheus'), target: '/etc/prometheus' });
  });

  it('runs Grafana with the provisioning files and the dashboard where the provider looks', () => {
    const grafana = mounts('grafana');
    expect(grafana).toContainEqual({ source: path.join(ROOT, 'grafana', 'provisioning'), target: '/etc/grafana/provisioning' });
    const provider = parse(readFileSync(path.join(ROOT, 'grafana', 'provisioning', 'dashboards', 'iotflow-metrics.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboards = grafana.find((mount) => mount.target === provider.providers[0].options.path);
    expect(dashboards?.source).toBe(path.join(ROOT, 'grafana', 'dashboards'));
    const datasources = parse(readFileSync(path.join(ROOT, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string }[];
    };
    expect(datasources.datasources).toContainEqual(expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }));
    expect(compose.services.grafana.depends_on).toContain('prometheus');
  });
});
