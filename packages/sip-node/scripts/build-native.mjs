#!/usr/bin/env node
// Builds the native UDP I/O thread (native/udp-io.c) into native/build/udp-io.node with the C compiler
// and Node's own headers. Best effort: where it cannot be built (no compiler, no headers, not Linux)
// it says so in one line and exits 0, and the dgram worker serves the socket instead.
//   node packages/sip-node/scripts/build-native.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'udp-io.c');
const out = join(root, 'native', 'build', 'udp-io.node');
const note = (msg) => process.stderr.write(`sip-node native: ${msg}\n`);

if (process.platform !== 'linux') {
  note(`not built on ${process.platform} (recvmmsg/sendmmsg are Linux's); the dgram worker serves UDP`);
  process.exit(0);
}
const fresh = existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs;
if (fresh && !process.argv.includes('--force')) process.exit(0);

// Node's headers: where npm is told they are, next to this node, or the distribution's.
const candidates = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  resolve(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter(Boolean);
const include = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
if (include === undefined) {
  note(`not built: no node_api.h in ${candidates.join(', ')}; the dgram worker serves UDP`);
  process.exit(0);
}
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(
    cc,
    [
      '-O2',
      '-std=gnu11',
      '-Wall',
      '-Wextra',
      '-Wno-unused-parameter',
      '-fPIC',
      '-shared',
      `-I${include}`,
      source,
      '-o',
      tmp,
      '-lpthread',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  renameSync(tmp, out); // whole or not at all: a running server may load it
} catch (err) {
  const detail = String(err.stderr ?? err.message)
    .trim()
    .split('\n')
    .slice(0, 5)
    .join(' | ');
  note(`not built (${cc} failed: ${detail}); the dgram worker serves UDP`);
  process.exit(0);
}
