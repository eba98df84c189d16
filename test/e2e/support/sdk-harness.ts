import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from './browser.js';
import type { ParentDriver, SdkDriver } from './sdk-page/driver-api.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The SDK's IIFE bundle as `npm run build` leaves it (pretest:e2e builds it). */
export const sdkBundlePath = here('../../../packages/sdk/dist/handset-sdk.iife.js');

type Methods<T> = {
  [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

/** A page driven through a `window.<global>` driver object; every call is a page.evaluate. */
export interface DrivenPage<T> {
  readonly page: Page;
  readonly do: Methods<T>;
  /** The page's console and errors so far. */
  logs(): string;
  close(): Promise<void>;
}

const html = (scripts: string[]) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Handset SDK e2e</title></head><body>${scripts
    .map((s) => `<script src="/${s}"></script>`)
    .join('')}</body></html>`;

const PAGES: Record<string, string[]> = {
  '/phone.html': ['handset-sdk.js', 'sdk-driver.js'],
  '/embedded.html': ['handset-sdk.js', 'embedded-phone.js'],
  '/parent.html': ['handset-sdk.js', 'parent-page.js'],
  '/forger.html': ['forger.js'],
};

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  return { server, origin: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

/**
 * Headless Debian Chromium plus three page servers on 127.0.0.1, i.e. three origins: `phones`
 * (SDK phone pages and the embedded phone), `parent` (a third-party page embedding it) and
 * `forger` (a hostile frame). Every page loads the built SDK bundle as a plain script.
 */
export class SdkHarness {
  private constructor(
    private readonly browser: Browser,
    private readonly servers: Server[],
    readonly origins: { phones: string; parent: string; forger: string },
  ) {}

  static async start(): Promise<SdkHarness> {
    if (!existsSync(sdkBundlePath)) throw new Error(`${sdkBundlePath} is missing: run npm run build first`);
    const bundle = await readFile(sdkBundlePath, 'utf8');
    const scripts = new Map<string, string>([['handset-sdk.js', bundle]]);
    for (const name of ['sdk-driver', 'embedded-phone', 'parent-page', 'forger']) {
      const out = await build({
        entryPoints: [here(`./sdk-page/${name}.ts`)],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'chrome110',
        write: false,
        logLevel: 'silent',
      });
      scripts.set(`${name}.js`, out.outputFiles[0]?.text ?? '');
    }
    const handler: Parameters<typeof createServer>[1] = (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const page = PAGES[path];
      const script = scripts.get(path.slice(1));
      if (page) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html(page));
      else if (script !== undefined)
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
      else res.writeHead(404).end();
    };
    const [phones, parent, forger] = await Promise.all([listen(handler), listen(handler), listen(handler)]);
    const servers = [phones.server, parent.server, forger.server];
    try {
      const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
      return new SdkHarness(browser, servers, { phones: phones.origin, parent: parent.origin, forger: forger.origin });
    } catch (err) {
      servers.forEach((s) => s.close());
      throw err;
    }
  }

  /** A phone page (own browser context, microphone and camera granted) with `window.sdk` ready. */
  openPhone(): Promise<DrivenPage<SdkDriver>> {
    return this.open<SdkDriver>(`${this.origins.phones}/phone.html`, 'sdk');
  }

  /** The parent page on its own origin, with `window.parentPage` ready. */
  openParent(): Promise<DrivenPage<ParentDriver>> {
    return this.open<ParentDriver>(`${this.origins.parent}/parent.html`, 'parentPage');
  }

  /** URL of the embedded phone that trusts the parent origin. */
  embeddedUrl(): string {
    return `${this.origins.phones}/embedded.html?parent=${encodeURIComponent(this.origins.parent)}`;
  }

  private async open<T>(url: string, global: string): Promise<DrivenPage<T>> {
    const context: BrowserContext = await this.browser.newContext();
    for (const origin of [this.origins.phones, this.origins.parent])
      await context.grantPermissions(['microphone', 'camera'], { origin });
    const page = await context.newPage();
    let log = '';
    page.on('console', (m) => (log += `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => (log += `[pageerror] ${e.message}\n`));
    await page.goto(url);
    await page.waitForFunction((g) => typeof (globalThis as Record<string, unknown>)[g] === 'object', global);
    const proxy = new Proxy(
      {},
      {
        get:
          (_t, method: string) =>
          (...args: unknown[]) =>
            page.evaluate(
              ([g, m, a]) => {
                const d = (globalThis as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>)[g]!;
                return d[m]!(...a);
              },
              [global, method, args] as const,
            ),
      },
    ) as Methods<T>;
    return {
      page,
      do: proxy,
      logs: () => log,
      close: () => context.close(),
    };
  }

  /** Closes Chromium and the page servers. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
