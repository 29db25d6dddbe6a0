/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium: no browser is ever downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  /** A new page that records console errors, failed requests and Content-Security-Policy violations in `problems`. */
  newPage(): Promise<Page & { problems: string[] }>;
  close(): Promise<void>;
}

/** Headless Chromium with a new empty profile, nothing of it reaching past loopback. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'iotflow-metrics-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  return {
    context,
    newPage: async () => {
      const page = Object.assign(await context.newPage(), { problems: [] as string[] });
      page.on('console', (message) => message.type() === 'error' && page.problems.push(`console: ${message.text()}`));
      page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
      await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (event: SecurityPolicyViolationEvent) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`)));
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
