#!/usr/bin/env node
/**
 * Builds Handset only when a source changed since the last build (a checkout, a pull, an edit),
 * so that starting a built server costs no compile. The last build leaves a stamp file; a source
 * (any file of a workspace outside node_modules and the build outputs, or a root config) newer than
 * that stamp, or no stamp, means build. About 20 ms for the ~400 files of the repository.
 *
 *   node scripts/build-if-stale.mjs           build when stale (quiet when fresh)
 *   node scripts/build-if-stale.mjs --check   exit 1 when stale, 0 when fresh; builds nothing
 *   node scripts/build-if-stale.mjs --stamp   record that a build just finished (npm run build does)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'node_modules/.cache/handset/build-stamp');
/** Every npm workspace of the root package.json: each holds sources of the build. */
const WORKSPACES = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces;
const ROOT_FILES = ['package.json', 'tsconfig.base.json'];
/** Build outputs and caches inside a workspace: never sources. */
const SKIP = new Set(['node_modules', 'dist', 'build', '.turbo', 'coverage']);

/** The newest modification time (ms) of the files under `dir`. */
function newest(dir) {
  let max = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (SKIP.has(e.name) || e.name.endsWith('.tsbuildinfo')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p));
    else if (e.isFile()) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** The first source newer than the stamp, or undefined when the build is current. */
export function staleReason() {
  const stamp = mtime(STAMP);
  if (stamp === 0) return 'no build recorded yet';
  for (const f of ROOT_FILES) if (mtime(join(ROOT, f)) > stamp) return `${f} changed`;
  for (const w of WORKSPACES) if (newest(join(ROOT, w)) > stamp) return `${w} changed`;
  if (mtime(join(ROOT, 'apps/server/dist/cli/main.js')) === 0) return 'apps/server/dist is missing';
  return undefined;
}

const arg = process.argv[2];
if (arg === '--stamp') {
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
} else {
  const reason = staleReason();
  if (arg === '--check') {
    if (reason) process.stdout.write(`stale: ${reason}\n`);
    process.exitCode = reason ? 1 : 0;
  } else if (reason) {
    process.stderr.write(`handset: building (${reason})...\n`);
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  }
}
