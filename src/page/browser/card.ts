/** One source's card on the live page: its state, numbers and chart. */
namespace LivePage {
  const POINTS = 120;
  const CHART_HEIGHT = 100;

  export type CardState = 'pending' | 'up' | 'down' | 'standby' | 'stale';

  const STATE_TEXT: Readonly<Record<CardState, string>> = { pending: 'waiting', up: 'up', down: 'down', standby: 'standby', stale: 'no data' };

  export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  export function clockTime(ms: number): string {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function yRange(_chart: uPlot, min: number | null, max: number | null): [number, number] {
    if (min === null || max === null || !isFinite(min) || !isFinite(max)) return [0, 1];
    const low = Math.min(0, min);
    return [low, max > low ? max + (max - low) * 0.15 : low + 1];
  }

  export class Card {
    private readonly area: Area;
    private readonly node: HTMLElement;
    private readonly stateNode: HTMLElement;
    private readonly whenNode: HTMLElement;
    private readonly errorNode: HTMLElement;
    private readonly chartNode?: HTMLElement;
    private readonly numberNodes: Record<string, HTMLElement> = {};
    private memory: CounterMemory = {};
    private values: Readings = {};
    private lastSuccess?: number;
    private readonly points: [number[], (number | null)[]] = [[], []];
    private chart?: uPlot;

    constructor(name: string, container: HTMLElement) {
      this.area = AREAS[name] ?? GENERIC;
      this.node = element('section', 'card');
      this.node.dataset.source = name;
      const head = element('div', 'card-head');
      head.appendChild(element('h2', '', this.area.title ?? name));
      head.appendChild(element('span', 'source', name));
      this.stateNode = head.appendChild(element('span', 'state'));
      this.node.appendChild(head);
      this.whenNode = this.node.appendChild(element('p', 'when', 'not collected yet'));
      this.errorNode = this.node.appendChild(element('p', 'error'));
      const numbers = this.node.appendChild(element('dl', 'numbers'));
      for (const [key, label] of this.area.numbers) {
        const item = element('div');
        item.dataset.metric = key;
        item.appendChild(element('dt', '', label));
        this.numberNodes[key] = item.appendChild(element('dd', '', '–'));
        numbers.appendChild(item);
      }
      if (this.area.chart) {
        this.node.appendChild(element('div', 'chart-title', this.area.chart[1]));
        this.chartNode = this.node.appendChild(element('div', 'chart'));
      }
      container.appendChild(this.node);
      this.setState('pending');
    }

    fromHealth(health: SourceHealth): void {
      if (health.lastSuccess) this.lastSuccess = Date.parse(health.lastSuccess);
      if (health.standby) {
        this.setState('standby');
        this.whenNode.textContent = 'collected by another replica';
      } else if (!health.up && health.error !== 'not collected yet') {
        this.failed(health.error, Date.now(), false);
      }
    }

    collected(message: SourceMessage): void {
      this.setState('up');
      this.errorNode.textContent = '';
      this.lastSuccess = message.timestamp;
      this.whenNode.textContent = `collected ${clockTime(message.timestamp)}`;
      this.update(this.area.derive(message, this.memory), message.timestamp);
    }

    failed(error: string | undefined, timestampMs: number, plot = true): void {
      this.setState('down');
      this.errorNode.textContent = error || 'down';
      this.whenNode.textContent = `failed ${clockTime(timestampMs)}${this.lastSuccess ? ` · last success ${clockTime(this.lastSuccess)}` : ''}`;
      // A source that is down shows no stale values, and its chart gets a gap.
      this.values = {};
      this.memory = {};
      for (const key in this.numberNodes) this.numberNodes[key].textContent = '–';
      if (plot && this.area.chart) this.plot(timestampMs, null);
    }

    /** The stream is gone: a card that showed a collection greys out with what it last showed, and says since when nothing came. */
    noDataSince(sinceMs: number): void {
      const state = this.node.dataset.state;
      if (state !== 'up' && state !== 'down') return;
      this.setState('stale');
      this.whenNode.textContent = `no data since ${clockTime(sinceMs)}`;
      // Rates resume from the next two readings, not across the gap.
      this.memory = {};
    }

    resize(): void {
      if (this.chart && this.chartNode) this.chart.setSize({ width: Math.max(200, this.chartNode.clientWidth), height: CHART_HEIGHT });
    }

    private setState(state: CardState): void {
      this.node.dataset.state = state;
      this.stateNode.textContent = STATE_TEXT[state];
    }

    private update(values: Readings, timestampMs: number): void {
      Object.assign(this.values, values);
      for (const [key, , format] of this.area.numbers) this.numberNodes[key].textContent = format(this.values[key]) ?? '–';
      const chart = this.area.chart;
      if (chart && chart[0] in values) {
        const reading = values[chart[0]];
        this.plot(timestampMs, defined(reading) ? reading : null);
      }
    }

    private plot(timestampMs: number, y: number | null): void {
      const [xs, ys] = this.points;
      xs.push(timestampMs / 1000);
      ys.push(y);
      if (xs.length > POINTS) {
        xs.shift();
        ys.shift();
      }
      if (this.chart) this.chart.setData(this.points);
      else if (this.chartNode && this.area.chart) this.chart = this.createChart(this.chartNode, this.area.chart[2]);
    }

    private createChart(target: HTMLElement, format: Format): uPlot {
      const axis = { font: '10px system-ui, sans-serif', stroke: '#656d76', ticks: { show: false }, grid: { stroke: '#eaeef2', width: 1 } };
      return new uPlot(
        {
          width: Math.max(200, target.clientWidth),
          height: CHART_HEIGHT,
          legend: { show: false },
          cursor: { show: false },
          padding: [6, 4, 0, 0],
          scales: { x: { time: true }, y: { range: yRange } },
          axes: [
            { ...axis, size: 20 },
            { ...axis, size: 58, values: (_chart: uPlot, splits: number[]) => splits.map((split) => format(split) ?? '') },
          ],
          series: [{}, { stroke: '#0969da', width: 1.5, fill: 'rgba(9, 105, 218, 0.08)', points: { show: (chart: uPlot) => chart.data[0].length < 3 } }],
        },
        this.points,
        target,
      );
    }
  }
}
