// Builds the web phone into dist/: hashed JS and CSS bundles (esbuild), index.html, the service
// worker with its shell list, the manifest, PNG icons and a ringtone generated here (no binary
// files in git). Fails when the initial JavaScript exceeds its budget of 150 KB gzipped.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync, crc32 } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const src = here;
const dist = join(root, 'dist');
const BUDGET_GZIP = 150 * 1024;

const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
let rev = 'dev';
try {
  rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  /* not a git checkout */
}
const buildUuid = `${pkg.version}+${rev}.${Date.now().toString(36)}`;

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'icons'), { recursive: true });

const common: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['chrome100', 'firefox100', 'safari15'],
  logLevel: 'warning',
  define: { HANDSET_BUILD_UUID: JSON.stringify(buildUuid) },
  jsx: 'automatic',
  jsxImportSource: 'preact',
};
const define = { HANDSET_BUILD_UUID: JSON.stringify(buildUuid) };
const app = await build({
  ...common,
  entryPoints: { app: join(src, 'main.tsx'), style: join(src, 'styles.css') },
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  // The SDK (JsSIP) is imported dynamically: a chunk of its own, fetched at boot beside the first
  // API requests, so the sign-in screen does not wait for it.
  splitting: true,
  format: 'esm',
  platform: 'browser',
  metafile: true,
});
const meta = app.metafile?.outputs ?? {};
const rel = (p: string) => p.replace(/^.*?dist\//, '');
const outputs = Object.keys(meta).map(rel);
const entry = Object.entries(meta).find(([, o]) => o.entryPoint?.endsWith('main.tsx'));
const js = entry ? rel(entry[0]) : '';
const css = outputs.find((p) => p.endsWith('.css')) ?? '';
/** What the page loads before its first screen: the entry and what it imports statically. */
const initial = new Set<string>();
const walk = (out: string) => {
  if (initial.has(out)) return;
  initial.add(out);
  for (const i of meta[out]?.imports ?? []) if (i.kind === 'import-statement') walk(i.path);
};
if (entry) walk(entry[0]);
const scripts = outputs.filter((p) => p.endsWith('.js'));

const html = (await readFile(join(src, 'index.html'), 'utf8')).replace('%JS%', js).replace('%CSS%', css);
await writeFile(join(dist, 'index.html'), html);
await copyFile(join(src, 'manifest.webmanifest'), join(dist, 'manifest.webmanifest'));
await copyFile(join(src, 'icon.svg'), join(dist, 'icons/icon.svg'));
for (const [name, size, pad] of <Array<[string, number, number]>>[
  ['icon-192.png', 192, 0],
  ['icon-512.png', 512, 0],
  ['icon-512-maskable.png', 512, 0.1],
])
  await writeFile(join(dist, 'icons', name), iconPng(size, pad));
await writeFile(join(dist, 'ringtone.wav'), ringtoneWav());

const shell = [
  './',
  './index.html',
  ...scripts,
  css,
  'manifest.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
  'ringtone.wav',
];
await build({
  ...common,
  entryPoints: [join(src, 'sw.ts')],
  outfile: join(dist, 'sw.js'),
  format: 'iife',
  define: { ...define, HANDSET_SHELL: JSON.stringify(shell) },
});
await writeFile(
  join(dist, 'build.json'),
  JSON.stringify({ uuid: buildUuid, js, css, chunks: scripts.filter((f) => f !== js) }, null, 2) + '\n',
);

const gzipOf = async (files: Iterable<string>) => {
  let n = 0;
  for (const f of files) n += gzipSync(await readFile(join(dist, rel(f)))).length;
  return n;
};
const gz = await gzipOf(initial);
const total = await gzipOf(scripts);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
process.stdout.write(
  `webphone: initial JavaScript ${kb(gz)} gzipped (${[...initial].map(rel).join(', ')}; budget ${BUDGET_GZIP / 1024} KB), ` +
    `all JavaScript with the SDK chunk ${kb(total)}, build ${buildUuid}\n`,
);
if (gz > BUDGET_GZIP) {
  process.stderr.write('webphone: the initial JavaScript is over budget\n');
  process.exit(1);
}

/** A PNG of the app icon: a blue rounded square with a white ring (drawn per pixel; no image library). */
function iconPng(size: number, pad: number): Buffer {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const r0 = size * 0.22;
  const inset = size * pad;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const o = y * (size * 4 + 1) + 1 + x * 4;
      const cx = Math.max(r0 + 0, Math.min(size - r0, x)),
        cy = Math.max(r0, Math.min(size - r0, y));
      const inSquare = pad > 0 || Math.hypot(x - cx, y - cy) <= r0;
      const d = Math.hypot(x - size / 2, y - size / 2) / ((size - 2 * inset) / 2);
      const ring = (d > 0.42 && d < 0.58) || d < 0.16;
      const [r, g, b] = ring ? [255, 255, 255] : [11, 107, 203];
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = inSquare ? 255 : 0;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 6-second ring cadence (440 + 480 Hz, 2 s on, 4 s off) as 8 kHz 16-bit mono WAV. */
function ringtoneWav(): Buffer {
  const rate = 8000;
  const n = rate * 6;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const on = t < 2;
    const v = on ? 0.25 * (Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 480 * t)) : 0;
    data.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
