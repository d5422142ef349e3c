import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { chromium, type BrowserContext } from 'playwright-core';
import { startDemoStack, type DemoStack } from './support/demo-stack';

// the same lookup as the preflight of npm test: CHROMIUM_PATH, or chromium on PATH
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findChromium } = require('../scripts/prerequisites') as { findChromium(): string | undefined };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every operation as Swagger UI shows it: method, then path. */
const OPERATIONS = [
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'POST /conversations',
  'GET /conversations/{id}/messages',
  'POST /conversations/{id}/messages',
  'DELETE /conversations/{id}',
  'PUT /users/{userId}/embeddings',
  'DELETE /users/{userId}/embeddings',
  'POST /users/{userId}/embeddings/lookup',
  'POST /users/{userId}/embeddings/embed',
  'POST /chat',
];

describe('/docs in headless Chromium', () => {
  let stack: DemoStack;
  let app: NestExpressApplication;
  let browser: BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'wbot-chromium-'));

  beforeAll(async () => {
    const executablePath = findChromium();
    if (!executablePath) {
      throw new Error(
        'Chromium is missing, and this test opens /docs in a packaged Chromium (never a downloaded browser). ' +
          'Install it: `apt-get install -y chromium`, or set CHROMIUM_PATH.',
      );
    }
    stack = await startDemoStack({ API_KEY: 'docs-test-key-0123456789' });
    app = stack.app;
    await app.listen(0, '127.0.0.1');
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('renders every route of the API, without the API key', async () => {
    const { port } = app.getHttpServer().address() as AddressInfo;
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('pageerror', (error) => failed.push(error.message));

    const response = await page.goto(`http://127.0.0.1:${port}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.info .title').first().innerText()).toContain('wbot redis-cache demo');

    const shown = await page
      .locator('.opblock-summary')
      .evaluateAll((summaries) =>
        summaries.map(
          (summary) =>
            `${summary.querySelector('.opblock-summary-method')?.textContent} ${summary
              .querySelector('.opblock-summary-path')
              ?.textContent?.replace(/\u200b/g, '')}`,
        ),
      );
    expect([...shown].sort()).toEqual([...OPERATIONS].sort());
    expect(await page.locator('.btn.authorize').count()).toBe(1);
    expect(failed).toEqual([]);
  });
});
