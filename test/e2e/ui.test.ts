/** The page in a real (headless) browser against the built `udpkit ui`, loopback only. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startListener, waitForLines } from '../helpers/cli.js';
import { readEvents, type SseReader } from '../helpers/sse.js';
import type { RunningUi } from '../helpers/ui.js';
import { CHROMIUM, hasChromium, openUiInBrowser, type UiInBrowser } from '../helpers/ui-browser.js';
import { floodUi } from '../helpers/ui-flood.js';

if (!hasChromium) console.log(`skipping the browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('udpkit ui in a browser', () => {
  let opened: UiInBrowser | undefined;
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    opened = await openUiInBrowser();
    ({ ui, browser, page } = opened);
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('shows a datagram sent from the CLI to a listener started in the page', async () => {
    await page.locator('#listen-port').fill('0');
    await page.getByRole('button', { name: 'Start' }).click();
    const item = page.locator('#listeners li.listener').first();
    await item.waitFor();
    const port = Number(await item.getAttribute('data-port'));
    const sent = await runCli(['send', `127.0.0.1:${port}`, 'hello-from-cli']);
    expect(sent.code).toBe(0);
    await page.locator('#log tbody tr', { hasText: 'hello-from-cli' }).waitFor();
    const id = await page.locator('#log tbody tr', { hasText: 'hello-from-cli' }).getAttribute('data-id');
    const row = page.locator(`#log tbody tr[data-id="${id}"]`);
    const from = await row.locator('td.from').textContent();
    expect(from).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await row.locator('td').nth(1).textContent()).toBe(String(port));
    await row.getByRole('button', { name: /as hex/ }).click();
    await expect.poll(() => row.locator('td.payload').textContent()).toBe('68 65 6c 6c 6f 2d 66 72 6f 6d 2d 63 6c 69');
  });

  it('sends from the page to a CLI listener', async () => {
    const listener = await startListener(['-n', '1']);
    await page.getByLabel('Host').fill('127.0.0.1');
    await page.locator('#send-port').fill(String(listener.port));
    await page.getByLabel('Payload', { exact: true }).fill('hello-from-page');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await waitForLines(listener, 1);
    expect(listener.stdout).toContain('hello-from-page');
    expect((await listener.done).code).toBe(0);
    await page.locator('#send-results li.ok', { hasText: 'hello-from-page' }).waitFor();
  });

  it('saves a message and resends it with one click', async () => {
    const listener = await startListener(['-n', '2']);
    await page.locator('#send-port').fill(String(listener.port));
    await page.getByLabel('Payload', { exact: true }).fill('saved-ping');
    await page.getByLabel('Save as').fill('ping');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Send "ping"' }).click();
    await waitForLines(listener, 1);
    await page.getByRole('button', { name: 'Send "ping"' }).click();
    const r = await listener.done;
    expect(r.code).toBe(0);
    expect(r.stdout.match(/saved-ping/g)).toHaveLength(2);
  });

  it('refuses an API request without the token', async () => {
    const status = await page.evaluate(async () => (await fetch('/api/listeners')).status);
    expect(status).toBe(401);
  });

  it('saves a screenshot with traffic in it', async () => {
    const port = await page.locator('#listeners li.listener').first().getAttribute('data-port');
    await page.locator('#send-port').fill(port as string);
    await page.getByLabel('Payload', { exact: true }).fill('hello from the page');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#log tbody tr', { hasText: 'hello from the page' }).waitFor();
    // docs/ui.png (the README's picture) is rewritten only on request, so test runs leave the tree clean.
    const target = process.env['UPDATE_SCREENSHOT'] === '1' ? '../../docs/ui.png' : '../../test-results/ui.png';
    const path = fileURLToPath(new URL(target, import.meta.url));
    await page.screenshot({ path, fullPage: true });
    expect((await import('node:fs')).statSync(path).size).toBeGreaterThan(10_000);
  });

  it('shows a long datagram cut short, and exports it whole from the server', async () => {
    const port = Number(await page.locator('#listeners li.listener').first().getAttribute('data-port'));
    const long = `long-${'x'.repeat(2995)}`;
    expect((await runCli(['send', `127.0.0.1:${port}`, long])).code).toBe(0);
    const row = page.locator('#log tbody tr', { hasText: 'long-' });
    await expect.poll(() => row.locator('td.payload').textContent()).toBe(`${long.slice(0, 1024)} … (${3000 - 1024} more bytes)`);
    const [one] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'all bytes' }).click()]);
    const line = JSON.parse(readFileSync((await one.path())!, 'utf8')) as { size: number; text: string; hex: string };
    expect(line).toMatchObject({ size: 3000, text: long, hex: Buffer.from(long).toString('hex') });

    await page.getByLabel('Filter (text or source)').fill('long-');
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON lines' }).click()]);
    const lines = readFileSync((await all.path())!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string });
    expect(lines.map((l) => l.text)).toEqual([long]);
    await page.getByLabel('Filter (text or source)').fill('');
  });

  it('says how many older datagrams the server let go to stay within its memory limit', async () => {
    const port = Number(await page.locator('#listeners li.listener').first().getAttribute('data-port'));
    await floodUi(ui, port, { count: 1100 });
    const { evicted } = (await (await ui.api('/api/log')).json()) as { evicted: number };
    expect(evicted).toBeGreaterThan(0);
    // The page may itself have fallen behind (and been told what it missed): both are said.
    await expect
      .poll(() => page.locator('#log-count').textContent(), { timeout: 20_000 })
      .toMatch(new RegExp(`^(\\d+) of \\1 shown \\(the server let go of ${evicted} older datagrams to stay within its memory limit(, \\d+ before this page got them)?\\)$`));
    expect(await page.locator('#log tbody tr').count()).toBe(500);
  });

  it('says so when the server refuses the live log because too many pages are open', async () => {
    const { open: already, max } = ((await (await ui.api('/api/log')).json()) as { streams: { open: number; max: number } }).streams;
    const extra: SseReader[] = [];
    for (let i = already; i < max; i++) extra.push(await readEvents(`${ui.base}/api/events`, { authorization: `Bearer ${ui.token}` }));
    expect(extra.every((s) => s.status === 200)).toBe(true);
    const second = await browser.newPage();
    try {
      await second.goto(ui.url);
      await second.getByRole('status').filter({ hasText: `live log unavailable: ${max} pages are already open; close one and reload` }).waitFor();
    } finally {
      await second.close();
      await Promise.all(extra.map((s) => s.close()));
    }
  });
});
