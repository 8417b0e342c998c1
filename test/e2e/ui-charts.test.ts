/**
 * The page's charts in a real (headless) browser against the built `udpkit ui`, loopback only:
 * a listener's rate chart counts what a Python peer sent, and a bench run started from the page
 * is charted live and ends with the report the bench server agrees with.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchChartHtml, benchChartSvg } from '../../src/format/bench-chart.js';
import { start, waitForLines, waitForStderr } from '../helpers/cli.js';
import { pySend } from '../helpers/py-udp.js';
import type { RunningUi } from '../helpers/ui.js';
import { CHROMIUM, hasChromium, openUiInBrowser, type UiInBrowser } from '../helpers/ui-browser.js';

if (!hasChromium) console.log(`skipping the browser chart tests: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('udpkit ui charts in a browser', () => {
  let opened: UiInBrowser | undefined;
  let ui: RunningUi;
  let page: Page;

  beforeAll(async () => {
    opened = await openUiInBrowser(15_000);
    ({ ui, page } = opened);
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('draws a listener rate chart that counts every datagram a Python peer sent', async () => {
    await page.locator('#listen-port').fill('0');
    await page.getByRole('button', { name: 'Start' }).click();
    const item = page.locator('#listeners li.listener').first();
    await item.waitFor();
    const port = Number(await item.getAttribute('data-port'));
    const figure = item.locator('figure.rate-chart');
    await figure.locator('[data-series="rate"]').waitFor({ state: 'attached' });
    expect(await figure.getAttribute('data-total')).toBe('0');

    const sent = 25;
    await pySend(port, Array.from({ length: sent }, (_, i) => `rate-${i}`));
    // Every datagram is accounted for by the server: received, or dropped by the kernel.
    const counts = async (): Promise<{ received: number; kernelDropped: number | null }> =>
      ((await (await ui.api('/api/listeners')).json()) as { received: number; kernelDropped: number | null }[])[0]!;
    await expect.poll(async () => { const c = await counts(); return c.received + (c.kernelDropped ?? 0); }, { timeout: 10_000 }).toBe(sent);
    const { received } = await counts();
    // The chart shows whole seconds: it has them all once the second they arrived in is over.
    await page.locator(`figure.rate-chart[data-port="${port}"][data-total="${received}"]`).waitFor({ state: 'attached' });
    expect(Number(await figure.getAttribute('data-peak'))).toBeGreaterThan(0);
    const series = figure.locator('g.series[data-series="rate"]');
    expect(await series.getAttribute('data-points')).toBe('60');
    expect(await series.locator('path').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+L/);
  });

  it('runs a bench from the page against a CLI bench server and charts it live', async () => {
    const server = start(['bench', '--server', '--bind', '127.0.0.1', '-p', '0', '--once', '--json'], { timeoutMs: 60_000 });
    try {
      const port = Number((await waitForStderr(server, /listening on 127\.0\.0\.1:(\d+)/))[1]);
      await page.getByLabel('Bench server', { exact: true }).fill('127.0.0.1');
      await page.getByLabel('Server port').fill(String(port));
      await page.getByLabel('Seconds').fill('3');
      await page.getByLabel('Datagrams/s').fill('2000');
      await page.getByLabel('Datagram bytes').fill('100');
      await page.getByRole('button', { name: 'Run bench' }).click();
      const section = page.locator('#bench-section');
      // Live: at least one interval charted while the run still goes on.
      await page.locator('#bench-section[data-state="running"][data-intervals]:not([data-intervals="0"])').waitFor({ state: 'attached' });
      await expect.poll(() => section.locator('#bench-chart g.series[data-series="throughput"]').getAttribute('data-points')).not.toBe('0');
      await page.locator('#bench-section[data-state="done"]').waitFor({ state: 'attached' });

      const [line] = await waitForLines(server, 1, 20_000);
      const session = JSON.parse(line as string) as { sent: number; received: number };
      const status = (await (await ui.api('/api/bench')).json()) as { report: { sent: number; received: number; lost: number }; intervals: { sent: number; received: number }[] };
      expect(status.report.sent).toBe(session.sent);
      expect(status.report.received).toBe(session.received);
      expect(status.report.received + status.report.lost).toBe(status.report.sent);
      // The intervals cover the whole run: their counts add up to the report's.
      expect(status.intervals.reduce((n, i) => n + i.sent, 0)).toBe(status.report.sent);
      expect(status.intervals.reduce((n, i) => n + i.received, 0)).toBe(status.report.received);
      expect(status.intervals.length).toBeGreaterThanOrEqual(2);

      await expect.poll(() => page.locator('#bench-report').textContent()).toContain(`sent        ${status.report.sent} datagrams`);
      for (const id of ['throughput', 'loss', 'delay', 'histogram']) expect(await section.locator(`#bench-chart g.series[data-series="${id}"]`).count()).toBe(1);
      expect(await section.locator('#bench-chart g.series[data-series="throughput"]').getAttribute('data-points')).toBe(String(status.intervals.length));
      expect((await server.done).code).toBe(0);
      await section.screenshot({ path: fileURLToPath(new URL('../../test-results/ui-bench.png', import.meta.url)) });
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it('runs a loopback bench from the page, and refuses a second one while it runs', async () => {
    await page.getByLabel('Loopback').check();
    await page.getByLabel('Seconds').fill('2');
    await page.getByRole('button', { name: 'Run bench' }).click();
    await page.locator('#bench-section[data-state="running"]').waitFor({ state: 'attached' });
    const second = await ui.api('/api/bench', { method: 'POST', json: { loopback: true, seconds: 1 } });
    expect(second.status).toBe(409);
    await page.locator('#bench-section[data-state="done"]').waitFor({ state: 'attached' });
    await expect.poll(() => page.locator('#bench-status').textContent()).toMatch(/^finished against loopback, last interval [\d.]+ Mbit\/s, loss [\d.]+%$/);
    await page.getByLabel('Loopback').uncheck();
  });

  it('shows the standalone HTML chart without a single request, its four series drawn', async () => {
    const html = benchChartHtml({
      title: 'standalone <check>',
      intervals: [0, 1, 2].map((k) => ({ startS: k, endS: k + 1, mbps: 10 + k, lossPercent: k / 10, delayMs: 0.2 })),
      histogram: [{ fromUs: 100, toUs: 110, count: 3 }, { fromUs: 110, toUs: 120, count: 5 }],
    });
    const other = await opened!.browser.newPage();
    try {
      const requests: string[] = [];
      other.on('request', (r) => requests.push(r.url()));
      await other.setContent(html, { waitUntil: 'load' });
      expect(requests).toEqual([]);
      expect(await other.title()).toBe('standalone <check>');
      for (const id of ['throughput', 'loss', 'delay', 'histogram']) expect(await other.locator(`svg g.series[data-series="${id}"]`).count()).toBe(1);
      expect(await other.locator('g.series[data-series="histogram"] rect.bar').count()).toBe(2);
      // Drawn, not just present: the throughput line has a size on screen.
      const box = await other.locator('g.series[data-series="throughput"] path').boundingBox();
      expect(box?.width).toBeGreaterThan(600);
    } finally {
      await other.close();
    }
  });

  it('parses the renderer output as XML in the browser, hostile title included', async () => {
    const svg = benchChartSvg({
      title: 'a <b> & "c" \u0001 \ud800',
      intervals: [{ startS: 0, endS: 1, mbps: 5, lossPercent: 0 }],
      histogram: [],
    });
    const parsed = await page.evaluate((text) => {
      // The browser's own XML parser (the test's type library has no DOM).
      type Found = { textContent: string | null } | null;
      const Parser = (globalThis as unknown as { DOMParser: new () => { parseFromString(t: string, type: string): { querySelector(s: string): Found } } }).DOMParser;
      const doc = new Parser().parseFromString(text, 'image/svg+xml');
      return { error: doc.querySelector('parsererror')?.textContent ?? null, title: doc.querySelector('svg > title')?.textContent ?? null };
    }, svg);
    expect(parsed).toEqual({ error: null, title: 'a <b> & "c" \ufffd \ufffd' });
  });
});
