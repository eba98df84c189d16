/**
 * Web phone timings in headless Chromium on loopback, against the built Handset started as a
 * child process on a seeded PGlite data dir:
 *
 *   npm run bench:webphone                      (builds, then: npx tsx bench/webphone/webphone-bench.ts [--runs 20])
 *   npx tsx bench/webphone/webphone-bench.ts --baseline bf79ab4   (before and after in one run)
 *
 * With `--baseline <git ref>`, the web phone of that commit is built from its sources (git
 * archive into bench/webphone/.baseline, over the current SDK build) and measured in the same run
 * as the current build: each is served by its own front (same proxy hop, own origin, own users),
 * and the runs alternate between the two, so load on the machine falls on both alike.
 *
 * - load → registered, stored session: reload a signed-in page; from navigation start (the
 *   page's time origin) to the `handset:registered` mark the app sets on its first registration.
 * - first sign-in → registered: a fresh browser context, e-mail and password typed, Sign in
 *   clicked; from the app's `handset:sign-in` mark (on submit) to `handset:registered`.
 * - dial → ringing at the callee: A clicks Call; from the click event in A's page to the moment an
 *   Answer button appears in B's page (a MutationObserver), both read as timeOrigin + now() (one
 *   machine, one clock). B then declines and both return to idle before the next run.
 * - the web phone's JavaScript, gzipped: initial (the scripts index.html loads and what they import
 *   statically; budget 150 KB) and all of it (with chunks loaded later, e.g. the SDK).
 *
 * Prints median and p95 (nearest rank) per measure and markdown rows for docs/benchmarks.md.
 * Stops what it started (Handset, Chromium, fronts) on exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startHandset, type HandsetProcess } from '../../test/e2e/support/handset.js';
import { WebphoneBrowser, type WebphonePage } from '../../test/e2e/support/webphone-browser.js';
import { WebphoneFront } from '../../test/e2e/support/webphone-deploy.js';
import { seedWebphoneUsers, type SeedUser } from '../../test/e2e/support/webphone-seed.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, baseline: { type: 'string' } },
});
const RUNS = Math.max(1, Number(args.runs));
const DOMAIN = 'bench.example.test';
const root = fileURLToPath(new URL('../../', import.meta.url));
const currentDist = join(root, 'apps/webphone/dist');
const user = (ext: string, name: string): SeedUser => ({
  domain: DOMAIN,
  ext,
  email: `${name.toLowerCase()}@${DOMAIN}`,
  password: `${name.toLowerCase()}-bench-${ext}`,
  name,
});

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

/** Gzipped JavaScript of a build: what index.html loads with its static imports, and all of it. */
async function jsSizes(dist: string): Promise<{ initial: number; all: number; files: string[] }> {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!.replace(/^\.?\//, ''));
  const initial = new Set<string>();
  const walk = async (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    const text = await readFile(join(dist, file), 'utf8');
    // Static imports of the minified ESM (`import"./x.js"`, `from"./x.js"`), not import("...").
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*"(\.\/[^"]+\.js)"/g))
      await walk(join(file, '..', m[1]!).replace(/^\.\//, ''));
  };
  for (const e of entries) await walk(e);
  const size = async (f: string) => gzipSync(await readFile(join(dist, f))).length;
  let first = 0;
  for (const f of initial) first += await size(f);
  let all = 0;
  for (const f of await readdir(join(dist, 'assets'))) if (f.endsWith('.js')) all += await size(join('assets', f));
  return { initial: first, all, files: [...initial] };
}

/** Builds the web phone of `ref` from its sources into bench/webphone/.baseline; returns its dist. */
async function buildBaseline(ref: string): Promise<string> {
  const dir = join(root, 'bench/webphone/.baseline');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', ref, 'apps/webphone', 'tsconfig.base.json'], {
    cwd: root,
    maxBuffer: 64 << 20,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  execFileSync('npx', ['tsx', join(dir, 'apps/webphone/src/build-webphone.ts')], { cwd: root, stdio: 'inherit' });
  return join(dir, 'apps/webphone/dist');
}

/** One web phone build under test: its front, its users, its pages. */
interface Variant {
  name: string;
  dist: string;
  front: WebphoneFront;
  browser: WebphoneBrowser;
  users: { a: SeedUser; b: SeedUser; c: SeedUser };
  signIn: number[];
  load: number[];
  configAt: number[];
  ring: number[];
}

async function main(): Promise<void> {
  const names = args.baseline ? ['before', 'after'] : ['after'];
  const usersOf = (i: number) => ({
    a: user(`40${i}1`, `Ann${i}`),
    b: user(`40${i}2`, `Ben${i}`),
    c: user(`40${i}3`, `Cat${i}`),
  });
  const seeded = await seedWebphoneUsers(names.flatMap((_n, i) => Object.values(usersOf(i))));
  let handset: HandsetProcess | undefined;
  const variants: Variant[] = [];
  const cleanup = async () => {
    for (const v of variants) {
      await v.browser.close().catch(() => undefined);
      await v.front.close().catch(() => undefined);
    }
    await handset?.stop().catch(() => undefined);
    await rm(seeded.dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const baselineDist = args.baseline ? await buildBaseline(args.baseline) : undefined;
    handset = await startHandset(seeded.env);
    for (const [i, name] of names.entries()) {
      const dist = name === 'before' ? baselineDist! : currentDist;
      const front = await WebphoneFront.start(handset.httpPort);
      front.serve(dist);
      const browser = await WebphoneBrowser.launch(`${front.url}/`);
      variants.push({ name, dist, front, browser, users: usersOf(i), signIn: [], load: [], configAt: [], ring: [] });
    }

    // (a) first sign-in, each in a fresh context (no stored session, nothing cached); alternating.
    for (let i = 0; i < RUNS; i++)
      for (const v of variants) {
        const p = await v.browser.open();
        await p.signIn(v.users.c.email, v.users.c.password);
        await registered(p);
        v.signIn.push(
          await p.page.evaluate(
            () =>
              performance.getEntriesByName('handset:registered')[0]!.startTime -
              performance.getEntriesByName('handset:sign-in')[0]!.startTime,
          ),
        );
        await p.page.context().close();
      }

    // (a) load with a stored session: reloads of a signed-in page.
    const pages = new Map<Variant, { a: WebphonePage; b: WebphonePage }>();
    for (const v of variants) {
      const a = await v.browser.open();
      await a.signIn(v.users.a.email, v.users.a.password);
      const b = await v.browser.open();
      await b.signIn(v.users.b.email, v.users.b.password);
      pages.set(v, { a, b });
    }
    for (let i = 0; i < RUNS; i++)
      for (const v of variants) {
        const { a } = pages.get(v)!;
        await a.page.reload();
        await registered(a);
        v.load.push(await registeredAt(a));
        v.configAt.push(
          await a.page.evaluate(() => performance.getEntriesByName('handset:config')[0]?.startTime ?? NaN),
        );
      }

    // (b) dial → ringing at the callee.
    for (const v of variants) await registered(pages.get(v)!.b);
    for (let i = 0; i < RUNS; i++)
      for (const v of variants) {
        const { a, b } = pages.get(v)!;
        await a.page.evaluate(ARM_CLICK);
        await b.page.evaluate(ARM_RING);
        await a.page.getByLabel('Number').fill(v.users.b.ext);
        await a.page.getByRole('button', { name: 'Call', exact: true }).click();
        await b.page.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 15_000 });
        const clickAt = await a.page.evaluate(() => (window as Hooked).__benchClickAt ?? NaN);
        const ringAt = await b.page.evaluate(() => (window as Hooked).__benchRingAt ?? NaN);
        v.ring.push(ringAt - clickAt);
        await b.page.getByRole('button', { name: 'Decline' }).click();
        await a.page.getByLabel('Number').waitFor({ timeout: 15_000 });
        await b.page.getByLabel('Number').waitFor({ timeout: 15_000 });
        // Let the CDR write and the call's teardown settle before the next run.
        await new Promise((r) => setTimeout(r, 300));
      }

    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const date = new Date().toISOString().slice(0, 10);
    const check = (xs: number[]) => {
      if (xs.some((x) => !Number.isFinite(x))) throw new Error(`a run was not measured: ${xs.join(', ')}`);
      return stats(xs);
    };
    const fmt = (xs: number[]) => {
      const s = check(xs);
      return `median ${s.median.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms`;
    };
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const anchor = variants.find((v) => v.name === 'before');
    const label = (v: Variant) => (v.name === 'before' ? `${args.baseline} (before)` : `${commit} (after)`);
    const rows: string[] = [];
    process.stdout.write(`runs: ${RUNS} each, alternating\n`);
    for (const v of variants) {
      const js = await jsSizes(v.dist);
      const measures: Array<[string, number[], number[] | undefined]> = [
        ['page load → registered (stored session)', v.load, anchor?.load],
        ['first sign-in → registered (from Sign in)', v.signIn, anchor?.signIn],
        ['dial → ringing at the callee (Call clicked → Answer shown)', v.ring, anchor?.ring],
      ];
      process.stdout.write(`\n${v.name}:\n`);
      for (const [what, xs, base] of measures) {
        const ratio = base && v !== anchor ? (check(xs).median / check(base).median).toFixed(2) : '-';
        process.stdout.write(`${what}: ${fmt(xs)}${ratio !== '-' ? `, ${ratio}x the baseline's median` : ''}\n`);
        rows.push(
          `| ${date} | ${label(v)} | \`npm run bench:webphone\` ${what}, ${RUNS} runs | ${fmt(xs)} | ${anchor && v !== anchor ? `${args.baseline} in the same run` : '-'} | ${ratio === '-' ? '-' : `${ratio}x`} |`,
        );
      }
      process.stdout.write(
        `  of the load: navigation → config fetched ${fmt(v.configAt)}; config → registered ${fmt(v.load.map((x, i) => x - v.configAt[i]!))}\n`,
      );
      process.stdout.write(
        `initial JS: ${js.files.join(', ')} = ${kb(js.initial)} gzipped (budget 150 KB); all JS ${kb(js.all)}\n`,
      );
      rows.push(
        `| ${date} | ${label(v)} | \`npm run bench:webphone\` web phone JavaScript, gzipped | initial ${kb(js.initial)}, all ${kb(js.all)} | budget 150 KB | ${(js.initial / (150 * 1024)).toFixed(2)} of budget |`,
      );
    }
    process.stdout.write(`\nrows:\n${rows.join('\n')}\n`);
  } finally {
    await cleanup();
  }
}

await main();
