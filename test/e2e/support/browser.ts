import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { AudioStats, CallInfo, PhoneApi, RegisterResult } from './jssip-page/phone-api.js';

const pageDir = fileURLToPath(new URL('./jssip-page/', import.meta.url));

/**
 * Flags for Debian's headless Chromium so two pages on one machine can call each other: a fake
 * microphone (a beep) granted without a prompt, and loopback allowed as an ICE host candidate.
 * The loopback flag is required: the page offers only 127.0.0.1/::1 candidates, and Chromium
 * gathers none on loopback without it. The mDNS switch is a guard: with the microphone granted
 * Chromium already shows real addresses, but `.local` candidates would not resolve here.
 */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-gpu',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Where Debian installs Chromium (never a Playwright-downloaded build). */
export const chromiumPath = process.env.HANDSET_CHROMIUM ?? '/usr/bin/chromium';

/** A JsSIP softphone living in one browser page, driven through `window.phone`. */
export interface BrowserPhone {
  readonly page: Page;
  register(wsUrl: string, uri: string, password: string): Promise<RegisterResult>;
  call(target: string): Promise<void>;
  answer(): Promise<void>;
  hangup(): Promise<void>;
  callInfo(): Promise<CallInfo>;
  /** Polls until the call reaches one of `states` (rejects with the last info on timeout). */
  waitForCall(states: readonly CallInfo['state'][], timeoutMs?: number): Promise<CallInfo>;
  getStats(): Promise<AudioStats>;
  sentCandidates(): Promise<string[]>;
  /** Console output of the page (JsSIP's debug log when opened with debug). */
  logs(): string;
  close(): Promise<void>;
}

/** The page's global scope; page.evaluate callbacks run there, so they reach `phone` only through it. */
type PhoneWindow = { phone: PhoneApi };

/** Headless Chromium plus a local HTTP server for the JsSIP page (phone.ts bundled with JsSIP by esbuild). */
export class BrowserHarness {
  private constructor(
    private readonly browser: Browser,
    private readonly server: Server,
    /** Base URL of the test page, http://127.0.0.1:<port>/ (a secure context, so getUserMedia works). */
    readonly pageUrl: string,
    /** Query string every page is opened with (`debug`, `candidates`). */
    private readonly pageQuery: string,
  ) {}

  /**
   * Bundles the page, serves it on 127.0.0.1 and launches Chromium. `debug` (or HANDSET_E2E_DEBUG=1)
   * turns on JsSIP's log in each page's console; `allCandidates` lets pages offer non-loopback ICE
   * candidates; `args` replaces {@link chromiumArgs}.
   */
  static async start(
    opts: { debug?: boolean; allCandidates?: boolean; args?: readonly string[] } = {},
  ): Promise<BrowserHarness> {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./jssip-page/phone.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'chrome110',
      write: false,
      logLevel: 'silent',
    });
    const phoneJs = bundle.outputFiles[0]?.text ?? '';
    const indexHtml = await readFile(`${pageDir}index.html`, 'utf8');
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(indexHtml);
      } else if (path === '/phone.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(phoneJs);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [...(opts.args ?? chromiumArgs)],
        headless: true,
      });
    } catch (err) {
      server.close();
      throw err;
    }
    const query = new URLSearchParams();
    if (opts.debug ?? process.env.HANDSET_E2E_DEBUG === '1') query.set('debug', '1');
    if (opts.allCandidates) query.set('candidates', 'all');
    const pageQuery = query.size > 0 ? `?${query.toString()}` : '';
    return new BrowserHarness(browser, server, `http://127.0.0.1:${port}/`, pageQuery);
  }

  /** Opens a fresh page (own browser context, microphone granted) with the JsSIP phone loaded. */
  async openPhone(): Promise<BrowserPhone> {
    const context: BrowserContext = await this.browser.newContext();
    await context.grantPermissions(['microphone'], { origin: this.pageUrl.replace(/\/$/, '') });
    const page = await context.newPage();
    let log = '';
    page.on('console', (m) => (log += `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => (log += `[pageerror] ${e.message}\n`));
    await page.goto(`${this.pageUrl}${this.pageQuery}`);
    await page.waitForFunction(() => typeof (globalThis as unknown as Partial<PhoneWindow>).phone === 'object');
    const callInfo = () => page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.callInfo());
    return {
      page,
      register: (wsUrl, uri, password) =>
        page.evaluate(([w, u, p]) => (globalThis as unknown as PhoneWindow).phone.register(w, u, p), [
          wsUrl,
          uri,
          password,
        ] as const),
      call: (target) => page.evaluate((t) => (globalThis as unknown as PhoneWindow).phone.call(t), target),
      answer: () => page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.answer()),
      hangup: () => page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.hangup()),
      callInfo,
      async waitForCall(states, timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const info = await callInfo();
          if (states.includes(info.state)) return info;
          if (Date.now() > deadline) {
            throw new Error(`call did not reach ${states.join('|')}: ${JSON.stringify(info)}\n${log}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      getStats: () => page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.getStats()),
      sentCandidates: () => page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.sentCandidates()),
      logs: () => log,
      async close() {
        await page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.stop()).catch(() => undefined);
        await context.close();
      },
    };
  }

  /** Closes Chromium and the page server. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
