import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../src/page/live-page';
import { launchChromium, type Browser } from '../support/browser';
import { startDemo, type RunningDemo } from '../support/demo';
import { get } from '../support/http';
import { sparePort } from '../support/ports';
import { killProcess } from '../support/processes';
import { killAllRedisServers, startRedisServer } from '../support/redis';
import { ROOT, startService, type RunningService } from '../support/service';

const SOURCES = ['system', 'app', 'database', 'iotflow', 'redis', 'mqtt'];
const SCREENSHOT = path.join(ROOT, 'docs', 'live-page.png');

/** The card of a source: its state and the text of each number. */
async function card(page: Page, source: string): Promise<{ state: string; when: string; error: string; numbers: Record<string, string> }> {
  return page.locator(`[data-source="${source}"]`).evaluate((node: HTMLElement) => ({
    state: node.dataset.state ?? '',
    when: node.querySelector('.when')?.textContent ?? '',
    error: node.querySelector('.error')?.textContent ?? '',
    numbers: Object.fromEntries(Array.from(node.querySelectorAll<HTMLElement>('[data-metric]')).map((item) => [item.dataset.metric, item.querySelector('dd')?.textContent ?? ''])),
  }));
}

const sourceState = (page: Page, source: string, state: string) => page.waitForSelector(`[data-source="${source}"][data-state="${state}"]`, { timeout: 15_000 });

describe('the live page on the demo fleet', () => {
  let browser: Browser;
  let demo: RunningDemo;
  let redis: ChildProcess;

  beforeAll(async () => {
    const redisPort = await sparePort();
    redis = await startRedisServer(redisPort);
    [browser, demo] = await Promise.all([
      launchChromium(),
      startDemo({ args: ['--devices', '200', '--rate', '40', '--http-rate', '20'], env: { COLLECTION_INTERVAL_SECONDS: '1', REDIS_URL: `redis://127.0.0.1:${redisPort}` } }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.cleanUp();
    await killAllRedisServers();
  }, 60_000);

  it('is served with a self-only Content-Security-Policy, its assets cacheable for good and from the exporter itself', async () => {
    const page = await get(demo.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const assets = [...page.body.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((match) => match[1]);
    // uPlot's stylesheet and script, the page's stylesheet and its script (compiled from src/page/browser/).
    expect(assets).toHaveLength(4);
    const script = await get(demo.port, assets.find((asset) => /^\/assets\/page\.[0-9a-f]+\.js$/.test(asset))!);
    expect(script.body).toBe(readFileSync(path.join(ROOT, 'dist', 'page', 'live-page.js'), 'utf8'));
    const uplot = assets.find((asset) => asset.endsWith('.iife.min.js'))!;
    const served = await get(demo.port, uplot);
    expect(served.status).toBe(200);
    expect(served.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(served.body).toBe(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it('shows every source up, its numbers moving from one collection to the next, and a source stopped mid-test turns red', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));
    await page.goto(`http://127.0.0.1:${demo.port}/`);
    for (const source of SOURCES) await sourceState(page, source, 'up');
    await page.waitForSelector('#connection[data-state="live"]');
    // Counters need two collections for a rate: wait until every number has a value.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-source] dd')).every((dd) => dd.textContent !== '–'), undefined, { timeout: 15_000 });
    const first = Object.fromEntries(await Promise.all(SOURCES.map(async (source) => [source, await card(page, source)] as const)));
    await page.waitForFunction((when) => document.querySelector('[data-source="system"] .when')?.textContent !== when, first.system.when, { timeout: 5000 });
    await page.waitForTimeout(1200);
    const second = Object.fromEntries(await Promise.all(SOURCES.map(async (source) => [source, await card(page, source)] as const)));
    for (const source of SOURCES) expect(second[source].when).not.toBe(first[source].when);
    expect(second.app.numbers.uptime).not.toBe(first.app.numbers.uptime);
    expect(second.iotflow.numbers.devices).toBe('200');
    expect(Number(second.mqtt.numbers.telemetry.replace(/[^\d.]/g, ''))).toBeGreaterThan(0);
    expect(Number(second.app.numbers.http.replace(/[^\d.]/g, ''))).toBeGreaterThan(0);
    expect(second.database.numbers.max).toMatch(/^\d+$/);
    expect(await page.locator('[data-source] .chart canvas').count()).toBe(SOURCES.length);

    // The picture for the README, with the fleet's real numbers, once the charts have a few points.
    await page.waitForTimeout(6000);
    const shot = path.join(os.tmpdir(), `live-page-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, SCREENSHOT);

    await killProcess(redis);
    await sourceState(page, 'redis', 'down');
    const down = await card(page, 'redis');
    expect(down.error).toMatch(/ECONNREFUSED|connect|closed/i);
    expect(Object.values(down.numbers)).toEqual(['–', '–', '–']);
    expect(down.when).toMatch(/^failed .* · last success /);
    for (const source of SOURCES.filter((name) => name !== 'redis')) expect((await card(page, source)).state).toBe('up');
    expect(page.problems).toEqual([]);
    // The request rate comes with the stream: the page never scrapes /metrics (nor spends its rate limit on it).
    expect(requested.filter((pathname) => pathname === '/metrics')).toEqual([]);
  }, 60_000);
});

describe('the live page when the exporter goes away', () => {
  let browser: Browser;
  let service: RunningService | undefined;

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('greys every card and says since when there is no data, then comes back when the exporter restarts on the same port', async () => {
    const port = await sparePort();
    const env = { PORT: String(port), SOURCES: 'system,app', COLLECTION_INTERVAL_SECONDS: '1' };
    [browser, service] = await Promise.all([launchChromium(), startService(env)]);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    for (const source of ['system', 'app']) await sourceState(page, source, 'up');
    await page.waitForSelector('#connection[data-state="live"]');

    await service.stop();
    service = undefined;
    for (const source of ['system', 'app']) await sourceState(page, source, 'stale');
    for (const source of ['system', 'app']) {
      const stale = await card(page, source);
      expect(stale.when).toMatch(/^no data since \d{2}:\d{2}:\d{2}$/);
      expect(await page.locator(`[data-source="${source}"] .state`).textContent()).toBe('no data');
    }
    // Grey, not green: the card's edge and its numbers.
    const colours = await page.locator('[data-source="system"]').evaluate((node: HTMLElement) => ({
      edge: getComputedStyle(node).borderLeftColor,
      number: getComputedStyle(node.querySelector('dd')!).color,
    }));
    expect(colours).toEqual({ edge: 'rgb(101, 109, 118)', number: 'rgb(101, 109, 118)' });
    expect(await page.getAttribute('#connection', 'data-state')).toBe('closed');

    service = await startService(env);
    for (const source of ['system', 'app']) await sourceState(page, source, 'up');
    await page.waitForSelector('#connection[data-state="live"]');
    expect((await card(page, 'system')).when).toMatch(/^collected /);
  }, 60_000);
});

describe('the live page with METRICS_TOKEN', () => {
  const TOKEN = 'live-page-token-93b1';
  let browser: Browser;
  let service: RunningService;

  beforeAll(async () => {
    [browser, service] = await Promise.all([launchChromium(), startService({ SOURCES: 'system,app', COLLECTION_INTERVAL_SECONDS: '1', METRICS_TOKEN: TOKEN })]);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('loads without it, asks for it, says so when it is wrong, and streams with the right one (sent as a subprotocol, never in a URL)', async () => {
    const page = await browser.newPage();
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    const upgrades: Array<Record<string, string>> = [];
    await page.goto(`http://127.0.0.1:${service.port}/`);
    await page.waitForSelector('#auth:not([hidden])');
    expect(await page.textContent('#connection')).toBe('token required');

    await page.fill('#token', 'wrong-token');
    await page.click('#auth button');
    await page.waitForFunction(() => document.querySelector('#auth-error')?.textContent?.includes('refused'));
    expect(await page.isVisible('#auth')).toBe(true);
    expect(await page.locator('[data-source][data-state="up"]').count()).toBe(0);

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketWillSendHandshakeRequest', (event: { request: { headers: Record<string, string> } }) => upgrades.push(event.request.headers));
    await page.fill('#token', TOKEN);
    await page.click('#auth button');
    await page.waitForSelector('#connection[data-state="live"]');
    for (const source of ['system', 'app']) await sourceState(page, source, 'up');
    expect(await page.isHidden('#auth')).toBe(true);

    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]['Sec-WebSocket-Protocol']).toBe(`iotflow-metrics.stream, base64url.bearer.authorization.k8s.io.${Buffer.from(TOKEN).toString('base64url')}`);
    for (const url of urls) expect(url).not.toContain(TOKEN);
    expect(service.logLines.join('\n')).not.toContain(TOKEN);
  }, 30_000);
});
