import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface DashboardTarget {
  refId: string;
  expr: string;
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  targets?: DashboardTarget[];
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
}
export interface Dashboard {
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

/** The shipped Grafana dashboard. */
export function shippedDashboard(root: string): Dashboard {
  return JSON.parse(readFileSync(path.join(root, 'grafana', 'dashboards', 'iotflow-metrics.json'), 'utf8')) as Dashboard;
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression selects: label matchers, ranges, grouping labels, functions and keywords left out. */
export function selectedMetricNames(expr: string): string[] {
  const selectors = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...selectors.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*\b(?!\s*\()/g)].map(([name]) => name).filter((name) => !PROMQL_KEYWORDS.has(name));
}
