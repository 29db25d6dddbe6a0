import path from 'node:path';
import { type DashboardPanel, type DashboardTarget, selectedMetricNames, shippedDashboard } from '../support/dashboard';

const dashboard = shippedDashboard(path.join(__dirname, '..', '..'));

/**
 * The Grafana unit a target's values are in, read from the metric it selects (Prometheus's base-unit
 * suffixes); undefined where the name implies none (counts, rates of counts, percentages).
 */
function impliedUnit(expr: string): string | undefined {
  const [name = ''] = selectedMetricNames(expr);
  const rate = /\b(?:i?rate|increase)\(/.test(expr);
  if (name === 'process_cpu_seconds_total' && rate) return 'percentunit';
  if (/_bytes_total$/.test(name) && rate) return 'Bps';
  if (/_bytes$/.test(name)) return 'bytes';
  if (/_seconds$/.test(name) || (/_seconds_bucket$/.test(name) && expr.includes('histogram_quantile'))) return 's';
  if (/_ratio$/.test(name)) return 'none';
  return undefined;
}

/** The unit Grafana shows a target's series in: an override for its query, else the panel's. */
function shownUnit(panel: DashboardPanel, target: DashboardTarget): string | undefined {
  const override = panel.fieldConfig?.overrides?.find(({ matcher }) => matcher.id === 'byFrameRefID' && matcher.options === target.refId);
  const unit = override?.properties.find(({ id }) => id === 'unit');
  return (unit?.value as string | undefined) ?? panel.fieldConfig?.defaults?.unit;
}

const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));

describe('the Grafana dashboard shows each series in its own unit, one unit per axis', () => {
  it.each(targets.filter(({ target }) => impliedUnit(target.expr) !== undefined).map(({ panel, target }) => [panel.title, target.refId, panel, target] as const))(
    '%s, query %s, is shown in the unit its metric name implies',
    (_title, _refId, panel, target) => {
      expect(shownUnit(panel, target)).toBe(impliedUnit(target.expr));
    },
  );

  it('never mixes two units on one axis (a series of another unit sits on the right axis)', () => {
    const mixed = dashboard.panels.filter((panel) => {
      const units = new Set((panel.targets ?? []).map((target) => {
        const override = panel.fieldConfig?.overrides?.find(({ matcher }) => matcher.options === target.refId);
        const placement = override?.properties.find(({ id }) => id === 'custom.axisPlacement')?.value ?? 'auto';
        return `${placement}:${shownUnit(panel, target)}`;
      }));
      const placements = [...units].map((unit) => unit.split(':')[0]);
      return new Set(placements).size !== placements.length;
    });
    expect(mixed.map(({ title }) => title)).toEqual([]);
  });
});
