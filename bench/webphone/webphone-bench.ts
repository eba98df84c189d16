/**
 * Web phone timings (the web phone's performance targets) in headless Chromium on loopback, against
 * the built Handset started as a child process on a seeded PGlite data dir:
 *
 *   npm run bench:webphone            (builds, then: npx tsx bench/webphone/webphone-bench.ts [--runs 20])
 *
 * - load → registered, stored session: reload a signed-in page; from navigation start (the
 *   page's time origin) to the `handset:registered` mark the app sets on its first registration.
 * - first sign-in → registered: a fresh browser context, e-mail and password typed, Sign in
 *   clicked; from the app's `handset:sign-in` mark (on submit) to `handset:registered`.
 * - dial → ringing at the callee: A clicks Call; from the click event in A's page to the moment an
 *   Answer button appears in B's page (a MutationObserver), both read as timeOrigin + now() (one
 *   machine, one clock). B then declines and both return to idle before the next run.
 * - the web phone's initial JavaScript, gzipped (the scripts index.html loads; budget 150 KB).
 *
 * Prints median and p95 (nearest rank) per measure and markdown rows for docs/benchmarks.md.
 * Stops what it started (Handset, Chromium) on exit.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startHandset, type HandsetProcess } from '../../test/e2e/support/handset.js';
import { WebphoneBrowser, type WebphonePage } from '../../test/e2e/support/webphone-browser.js';
import { seedWebphoneUsers } from '../../test/e2e/support/webphone-seed.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Math.max(1, Number(args.runs));
const DOMAIN = 'bench.example.test';
const dist = fileURLToPath(new URL('../../apps/webphone/dist/', import.meta.url));
const user = (ext: string, name: string) => ({
  domain: DOMAIN,
  ext,
  email: `${name.toLowerCase()}@${DOMAIN}`,
  password: `${name.toLowerCase()}-bench-${ext}`,
  name,
});
const A = user('4001', 'Ann');
const B = user('4002', 'Ben');
const C = user('4003', 'Cat');

type Hooked = Window & { __benchClickAt?: number; __benchRingAt?: number };

// Page scripts as text: tsx would wrap functions passed to page.evaluate with its own helpers.
/** In A's page: the time the next click on the Call button is dispatched (capture phase, on document). */
const ARM_CLICK = `(() => {
  delete window.__benchClickAt;
  const on = (e) => {
    const b = e.target instanceof Element ? e.target.closest('button') : null;
    if (!b || b.textContent !== 'Call') return;
    window.__benchClickAt = performance.timeOrigin + performance.now();
    document.removeEventListener('click', on, true);
  };
  document.addEventListener('click', on, true);
})()`;
/** In B's page: the time an Answer button first appears. */
const ARM_RING = `(() => {
  delete window.__benchRingAt;
  const mo = new MutationObserver(() => {
    if ([...document.querySelectorAll('button')].some((x) => x.textContent === 'Answer')) {
      window.__benchRingAt = performance.timeOrigin + performance.now();
      mo.disconnect();
    }
  });
  mo.observe(document.body, { childList: true, subtree: true });
})()`;

function stats(xs: number[]): { median: number; p95: number } {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, p95: rank(0.95) };
}

async function registered(p: WebphonePage): Promise<void> {
  // Exactly: "Not registered" contains the word too.
  await p.page
    .getByRole('status')
    .filter({ hasText: /^Registered$/ })
    .waitFor({ timeout: 30_000 });
}

/** ms from navigation start to the first registration of this page load. */
const registeredAt = (p: WebphonePage) =>
  p.page.evaluate(() => performance.getEntriesByName('handset:registered')[0]?.startTime ?? NaN);

async function initialJsGzip(): Promise<{ files: string[]; bytes: number }> {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!.replace(/^\.?\//, ''));
  let bytes = 0;
  for (const f of files) bytes += gzipSync(await readFile(join(dist, f))).length;
  return { files, bytes };
}

async function main(): Promise<void> {
  const seeded = await seedWebphoneUsers([A, B, C]);
  let handset: HandsetProcess | undefined;
  let browser: WebphoneBrowser | undefined;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    await handset?.stop().catch(() => undefined);
    await rm(seeded.dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    handset = await startHandset(seeded.env);
    const base = `http://127.0.0.1:${handset.httpPort}/`;
    browser = await WebphoneBrowser.launch(base);

    // (a) first sign-in, each in a fresh context (no stored session, nothing cached).
    const signIn: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const p = await browser.open();
      await p.signIn(C.email, C.password);
      await registered(p);
      signIn.push(
        await p.page.evaluate(
          () =>
            performance.getEntriesByName('handset:registered')[0]!.startTime -
            performance.getEntriesByName('handset:sign-in')[0]!.startTime,
        ),
      );
      await p.page.context().close();
    }

    // (a) load with a stored session: reloads of a signed-in page.
    const a = await browser.open();
    await a.signIn(A.email, A.password);
    await registered(a);
    const load: number[] = [];
    /** Of the load: navigation start to the web phone configuration fetched (the rest is WS + REGISTER). */
    const configAt: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await a.page.reload();
      await registered(a);
      load.push(await registeredAt(a));
      configAt.push(await a.page.evaluate(() => performance.getEntriesByName('handset:config')[0]?.startTime ?? NaN));
    }

    // (b) dial → ringing at the callee.
    const b = await browser.open();
    await b.signIn(B.email, B.password);
    await registered(b);
    const ring: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await a.page.evaluate(ARM_CLICK);
      await b.page.evaluate(ARM_RING);
      await a.page.getByLabel('Number').fill(B.ext);
      await a.page.getByRole('button', { name: 'Call', exact: true }).click();
      await b.page.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 15_000 });
      const clickAt = await a.page.evaluate(() => (window as Hooked).__benchClickAt ?? NaN);
      const ringAt = await b.page.evaluate(() => (window as Hooked).__benchRingAt ?? NaN);
      ring.push(ringAt - clickAt);
      await b.page.getByRole('button', { name: 'Decline' }).click();
      await a.page.getByLabel('Number').waitFor({ timeout: 15_000 });
      await b.page.getByLabel('Number').waitFor({ timeout: 15_000 });
      // Let the CDR write and the call's teardown settle before the next run.
      await new Promise((r) => setTimeout(r, 300));
    }

    const js = await initialJsGzip();
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const date = new Date().toISOString().slice(0, 10);
    const fmt = (xs: number[]) => {
      if (xs.some((x) => !Number.isFinite(x))) throw new Error(`a run was not measured: ${xs.join(', ')}`);
      const s = stats(xs);
      return `median ${s.median.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms`;
    };
    const rows = [
      ['page load → registered (stored session)', fmt(load)],
      ['first sign-in → registered (from Sign in)', fmt(signIn)],
      ['dial → ringing at the callee (Call clicked → Answer shown)', fmt(ring)],
    ];
    const kb = `${(js.bytes / 1024).toFixed(1)} KB`;
    process.stdout.write(`runs: ${RUNS}\n`);
    for (const [what, v] of rows) process.stdout.write(`${what}: ${v}\n`);
    process.stdout.write(
      `  of the load: navigation → config fetched ${fmt(configAt)}; config → registered ${fmt(load.map((x, i) => x - configAt[i]!))}\n`,
    );
    process.stdout.write(`initial JS: ${js.files.join(', ')} = ${kb} gzipped (budget 150 KB)\n\nrows:\n`);
    // The Results table's columns: no anchor runs here, so those cells say so.
    for (const [what, v] of rows)
      process.stdout.write(
        `| ${date} | ${commit} | \`npm run bench:webphone\` ${what}, ${RUNS} runs | ${v} | - | - |\n`,
      );
    process.stdout.write(
      `| ${date} | ${commit} | \`npm run bench:webphone\` web phone initial JS, gzipped | ${kb} | budget 150 KB | ${(js.bytes / (150 * 1024)).toFixed(2)} of budget |\n`,
    );
  } finally {
    await cleanup();
  }
}

await main();
