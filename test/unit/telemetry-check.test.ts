import { defer, of } from 'rxjs';
import { describeTally, TelemetryCheck } from '../../demo/telemetry-check';
import type { MetricSource } from '../../src/source';

describe("the demo's telemetry tally", () => {
  it('says exact only when the count is what was published, and why it may not be otherwise', () => {
    expect(describeTally({ published: 120, counted: 120 })).toEqual({ line: 'telemetry: published 120, the exporter counted 120: exact', exact: true });
    expect(describeTally({ published: 120, counted: 240 })).toEqual({ line: expect.stringMatching(/^telemetry MISCOUNTED: published 120, the exporter counted 240: .*another publisher/), exact: false });
    expect(describeTally({ published: 120, counted: 60 })).toEqual({ line: expect.stringMatching(/^telemetry MISCOUNTED: published 120, the exporter counted 60: .*never reached it/), exact: false });
    expect(describeTally({ published: 120, counted: undefined }).exact).toBe(false);
  });

  describe('while the demo runs', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('reports a count above what was sent, or below what was acknowledged a period before, once until it is right again', async () => {
      const fleet = { sent: 0, published: 0 };
      let counted = 0;
      const mqtt: MetricSource = { name: 'mqtt', metrics: [], collect: () => defer(() => of([{ name: 'iotflow_telemetry_messages_total', value: counted }])) };
      const problems: string[] = [];
      const check = new TelemetryCheck(mqtt, fleet, (message) => problems.push(message));
      const period = async (sent: number, published: number, count: number) => {
        Object.assign(fleet, { sent, published });
        counted = count;
        await jest.advanceTimersByTimeAsync(5000);
      };

      await period(100, 95, 97); // messages in flight: neither bound crossed
      await period(200, 200, 150); // behind, but above what was acknowledged a period ago
      expect(problems).toEqual([]);
      await period(300, 300, 350); // another publisher's messages
      await period(400, 400, 450);
      expect(problems).toEqual([expect.stringMatching(/^telemetry MISCOUNTED: published 300, the exporter counted 350/)]);
      await period(500, 500, 480);
      await period(600, 600, 420); // below the 500 acknowledged a period ago: lost
      expect(problems).toEqual([expect.anything(), expect.stringMatching(/^telemetry MISCOUNTED: published 500, the exporter counted 420: .*never reached it/)]);
      counted = 600;
      await expect(check.finish()).resolves.toEqual({ published: 600, counted: 600 });
    });
  });
});
