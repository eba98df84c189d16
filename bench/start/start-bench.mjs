#!/usr/bin/env node
/**
 * Start-up and idle footprint of the BUILT server on the embedded database (PGlite):
 *
 *   first start   a fresh data directory (initdb and every migration) until GET /healthz answers 200
 *   restart       the same data directory again: what an admin waits for after `handset start`
 *   idle RSS      resident memory of the whole process tree (the process and every child it started),
 *                 sampled after BENCH_IDLE_S seconds of idleness, median of 5 samples one second apart
 *
 * The build is measured as `./handset start` (the staleness check, then node in place of the shell:
 * what the README and the service unit run) and as `npm start` (whose npm process stays resident
 * above node); BENCH_BEFORE names another build's CLI, measured as `node <cli> start`.
 *
 *   npm run bench:start
 *   BENCH_BEFORE=.bench-out/before/apps/server/dist/cli/main.js npm run bench:start   (a second build beside it)
 *
 * Environment: BENCH_RUNS (3, restarts per build, median reported), BENCH_IDLE_S (5), BENCH_BEFORE,
 * BENCH_NPM (1; 0 skips the npm start row). Ports are free ports on 127.0.0.1; the data directories are temporary and removed.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 5);
const PAGE_KB = 4;

const tcpPort = () =>
  new Promise((ok, ko) => {
    const s = createServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
const udpFree = (port) =>
  new Promise((ok) => {
    const s = createSocket('udp4');
    s.once('error', () => ok(false));
    s.bind(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
/** A port free on 127.0.0.1 for TCP and UDP both (the SIP port is both). */
async function freePort() {
  for (;;) {
    const port = await tcpPort();
    if (await udpFree(port)) return port;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Every process id below (and including) `pid`, from /proc's parent links. */
function tree(pid) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {
      /* gone meanwhile */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parents) if (pp === out[i]) out.push(p);
  return out;
}

/** Resident set of the tree, in MB, with each process's own share. */
function treeRss(pid) {
  let total = 0;
  const parts = [];
  for (const p of tree(pid)) {
    try {
      const pages = Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]);
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      total += (pages * PAGE_KB) / 1024;
      parts.push(`${comm} ${Math.round((pages * PAGE_KB) / 1024)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return { mb: total, parts };
}

async function waitHealthy(port, child, deadlineMs) {
  const t0 = performance.now();
  while (performance.now() - t0 < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) during start`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(20);
  }
  throw new Error('no /healthz within the deadline');
}

/** Starts, waits for health; resolves with the start time (ms) and a stop function. */
async function startOnce(cmd, args, dataDir) {
  const httpPort = await freePort();
  const env = {
    ...process.env,
    HANDSET_DATA_DIR: dataDir,
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: String(await freePort()),
    HANDSET_HTTP_PORT: String(httpPort),
    HANDSET_LOG_LEVEL: 'warn',
  };
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitHealthy(httpPort, child, 600_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${stderr.slice(-2000)}`);
  }
  const ms = performance.now() - t0;
  const stop = async () => {
    const pids = tree(child.pid);
    const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  return { ms, child, stop };
}

async function measure(label, cmd, args) {
  const dataDir = mkdtempSync(join(tmpdir(), 'handset-bench-start-'));
  try {
    const first = await startOnce(cmd, args, dataDir);
    await first.stop();
    const restarts = [];
    let rss;
    for (let i = 0; i < RUNS; i++) {
      const run = await startOnce(cmd, args, dataDir);
      restarts.push(run.ms);
      if (i === RUNS - 1) {
        await sleep(IDLE_S * 1000);
        const samples = [];
        for (let s = 0; s < 5; s++) {
          samples.push(treeRss(run.child.pid));
          await sleep(1000);
        }
        const mid = median(samples.map((x) => x.mb));
        rss = samples.find((x) => x.mb === mid);
      }
      await run.stop();
    }
    const row = {
      label,
      firstStartS: +(first.ms / 1000).toFixed(2),
      restartS: +(median(restarts) / 1000).toFixed(2),
      idleRssMB: Math.round(rss.mb),
      processes: rss.parts.join(', '),
    };
    console.log(
      `${label}: first start ${row.firstStartS} s, restart ${row.restartS} s (median of ${RUNS}), idle RSS ${row.idleRssMB} MB [${row.processes}]`,
    );
    return row;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const current = join(ROOT, 'apps/server/dist/cli/main.js');
if (!existsSync(current)) {
  console.error('bench:start: apps/server/dist/cli/main.js not found: run npm run build first');
  process.exit(1);
}
// ./handset start builds when a source changed: build now (when stale) so that no row counts a build.
execFileSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.mjs')], { stdio: 'inherit' });
const rows = [];
const before = process.env.BENCH_BEFORE;
if (before) rows.push(await measure(`before (${before})`, process.execPath, [resolve(ROOT, before), 'start']));
rows.push(await measure('./handset start', join(ROOT, 'handset'), ['start']));
if (process.env.BENCH_NPM !== '0') rows.push(await measure('npm start', 'npm', ['start', '--silent']));

console.log('\n| build | first start (s) | restart (s) | idle RSS, process tree (MB) |\n| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.label} | ${r.firstStartS} | ${r.restartS} | ${r.idleRssMB} |`);
console.log(
  `\nnode ${process.version}, ${execFileSync('nproc').toString().trim()} cores, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
