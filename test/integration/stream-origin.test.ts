/// <reference lib="dom" />
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchChromium, type Browser } from '../support/browser';
import { sampleValue } from '../support/http';
import { readSamples, waitUntilUp } from '../support/metrics';
import { startService, type RunningService } from '../support/service';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../support/tls';
import { openRawStream, openStream } from '../support/websocket';

/** The status and JSON error of a refused raw upgrade. */
async function refusedUpgrade(port: number, headers: Record<string, string>): Promise<{ status: number; error: string }> {
  const refusal = (await openRawStream(port, 'sources=app', headers).then(
    () => Promise.reject(new Error('the upgrade was accepted')),
    (error: { status: number; reply: string }) => error,
  )) as { status: number; reply: string };
  return { status: refusal.status, error: (JSON.parse(refusal.reply.slice(refusal.reply.indexOf('\r\n\r\n') + 4)) as { error: string }).error };
}

describe('/stream upgrades by Origin', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startService({ SOURCES: 'app', COLLECTION_INTERVAL_SECONDS: '1', METRICS_RATE_LIMIT: '0' });
    await waitUntilUp(service, 'app');
  });

  afterAll(() => service.stop());

  it('lets in a client with no Origin and a page of its own origin; refuses another origin with 403 and a reason, counted', async () => {
    const own = await openRawStream(service.port, 'sources=app', { Origin: `http://127.0.0.1:${service.port}` });
    own.socket.destroy();
    const withoutOrigin = await openStream(service.port, 'sources=app');
    expect(await withoutOrigin.next()).toMatchObject({ source: 'app', up: true });
    withoutOrigin.socket.close();

    expect(await refusedUpgrade(service.port, { Origin: 'https://attacker.example' })).toEqual({
      status: 403,
      error: `origin "https://attacker.example" may not read this stream: it is neither the exporter's own (http://127.0.0.1:${service.port}) nor in STREAM_ALLOWED_ORIGINS`,
    });
    // Same host, another port: another origin, as browsers see it.
    await expect(openStream(service.port, 'sources=app', { origin: 'http://127.0.0.1:1' })).rejects.toMatchObject({ status: 403 });
    const samples = await readSamples(service);
    expect(sampleValue(samples, 'stream_clients_rejected_total', { reason: 'origin' })).toBe(2);
    expect(sampleValue(samples, 'http_requests_total', { endpoint: '/stream', status: '403' })).toBe(2);
  });
});

describe('/stream over TLS with STREAM_ALLOWED_ORIGINS', () => {
  let certificate: SelfSignedCertificate;
  let service: RunningService;

  beforeAll(async () => {
    certificate = makeSelfSignedCertificate();
    service = await startService({
      SOURCES: 'app',
      METRICS_RATE_LIMIT: '0',
      TLS_CERT_FILE: certificate.certFile,
      TLS_KEY_FILE: certificate.keyFile,
      STREAM_ALLOWED_ORIGINS: 'https://dashboard.example.com, http://10.0.0.5:3000',
    });
  });

  afterAll(async () => {
    await service?.stop();
    certificate?.remove();
  });

  it('lets in its own https origin and the listed ones; the same host over http is another origin', async () => {
    const wss = (origin: string) => openStream(service.port, 'sources=app', { scheme: 'wss', ca: certificate.pem, origin });
    for (const origin of [`https://127.0.0.1:${service.port}`, 'https://dashboard.example.com', 'http://10.0.0.5:3000']) (await wss(origin)).socket.close();
    await expect(wss(`http://127.0.0.1:${service.port}`)).rejects.toMatchObject({ status: 403 });
    await expect(wss('https://other.example.com')).rejects.toMatchObject({ status: 403 });
    expect(sampleValue(await readSamples(service), 'stream_clients_rejected_total', { reason: 'origin' })).toBe(2);
  });
});

describe('a web page of another site in Chromium', () => {
  let browser: Browser;
  let service: RunningService;
  let foreignSite: http.Server;

  beforeAll(async () => {
    [browser, service] = await Promise.all([launchChromium(), startService({ SOURCES: 'system,app', COLLECTION_INTERVAL_SECONDS: '1' })]);
    // A page of another origin (another port) that tries to read the exporter's stream.
    foreignSite = http.createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end(`<!doctype html><title>elsewhere</title><script>
        window.outcome = new Promise((resolve) => {
          const socket = new WebSocket('ws://127.0.0.1:${service.port}/stream', ['iotflow-metrics.stream']);
          socket.onmessage = (event) => resolve('read: ' + String(event.data).slice(0, 80));
          socket.onclose = (event) => resolve('closed: ' + event.code);
        });
      </script>`);
    });
    await new Promise<void>((resolve) => foreignSite.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await new Promise((resolve) => foreignSite?.close(resolve));
  });

  it('cannot read the stream, while the exporter\'s own live page still streams', async () => {
    const foreign = await browser.newPage();
    await foreign.goto(`http://127.0.0.1:${(foreignSite.address() as AddressInfo).port}/`);
    expect(await foreign.evaluate(() => (window as unknown as { outcome: Promise<string> }).outcome)).toBe('closed: 1006');
    expect(sampleValue(await readSamples(service), 'stream_clients_rejected_total', { reason: 'origin' })).toBe(1);

    const own = await browser.newPage();
    await own.goto(`http://127.0.0.1:${service.port}/`);
    await own.waitForSelector('#connection[data-state="live"]');
    for (const source of ['system', 'app']) await own.waitForSelector(`[data-source="${source}"][data-state="up"]`, { timeout: 15_000 });
    expect(own.problems).toEqual([]);
  }, 60_000);
});
