import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from './browser.js';

/** What window.__handsetWebphone answers (the app's read-only test hook). */
export interface WebphoneHookStats {
  audio: { packetsReceived: number; packetsSent: number };
  video: { packetsReceived: number; packetsSent: number };
  quality: { grade: string };
}

/** One signed-in (or not yet) web phone in its own browser context (own storage, own microphone). */
export interface WebphonePage {
  readonly page: Page;
  signIn(email: string, password: string): Promise<void>;
  /** RTP counters of the call on screen, or undefined when none is active. */
  stats(): Promise<WebphoneHookStats | undefined>;
  /** Console lines and page errors so far (for failure messages). */
  logs(): string;
}

/** Headless Debian Chromium opening the web phone that Handset serves at `/`. */
export class WebphoneBrowser {
  private constructor(
    private readonly browser: Browser,
    private readonly url: string,
  ) {}

  static async launch(url: string): Promise<WebphoneBrowser> {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs] });
    return new WebphoneBrowser(browser, url);
  }

  /** A fresh context and page; `viewport` defaults to a phone (390 x 780). */
  async open(viewport = { width: 390, height: 780 }): Promise<WebphonePage> {
    const context = await this.browser.newContext({ viewport, permissions: ['microphone', 'camera'] });
    // Test hook: two pages on one machine talk over loopback candidates only.
    await context.addInitScript(() => localStorage.setItem('handset.e2e.loopback', '1'));
    const page = await context.newPage();
    let logs = '';
    page.on('console', (m) => (logs += `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => (logs += `[pageerror] ${e.message}\n`));
    await page.goto(this.url);
    return {
      page,
      logs: () => logs,
      async signIn(email, password) {
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('status').filter({ hasText: /^Registered$/ }).waitFor({ timeout: 20_000 });
      },
      stats: () =>
        page.evaluate(() =>
          (
            window as unknown as { __handsetWebphone: { stats(): Promise<WebphoneHookStats | undefined> } }
          ).__handsetWebphone.stats(),
        ),
    };
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
