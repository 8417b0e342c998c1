/** The built `udpkit ui` opened in Debian's Chromium (headless, loopback only) for the browser tests. */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startUi, type RunningUi } from './ui.js';

export const CHROMIUM = '/usr/bin/chromium';
/** False where Chromium is not installed: the browser tests are skipped, with a reason printed. */
export const hasChromium = existsSync(CHROMIUM);

export interface UiInBrowser {
  readonly ui: RunningUi;
  readonly browser: Browser;
  /** The page, loaded and connected to the live log. */
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts the UI, launches Chromium and waits until the page says it is connected. Locator
 * waits time out after `timeoutMs`, with Playwright's message, before vitest's own timeout.
 */
export async function openUiInBrowser(timeoutMs = 8_000): Promise<UiInBrowser> {
  const ui = await startUi();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(timeoutMs);
  await page.goto(ui.url);
  await page.getByRole('status').filter({ hasText: /^connected$/ }).waitFor();
  return {
    ui,
    browser,
    page,
    async close() {
      await browser.close();
      await ui.stop();
    },
  };
}
