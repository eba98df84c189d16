// Builds the device console into dist/ (served by Handset at /console/): hashed JS and CSS
// bundles (esbuild) and index.html. Fails when the JavaScript exceeds its budget of 100 KB gzipped.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const src = dirname(fileURLToPath(import.meta.url));
const dist = join(src, '..', 'dist');
const BUDGET_GZIP = 100 * 1024;

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const app = await build({
  entryPoints: { console: join(src, 'main.tsx'), style: join(src, 'console.css') },
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.keys(app.metafile.outputs).map((p) => p.replace(/^.*?dist\//, ''));
const js = outputs.find((p) => p.endsWith('.js')) ?? '';
const css = outputs.find((p) => p.endsWith('.css')) ?? '';
// Absolute paths: the console's own routes (/console/devices) load the same files.
const html = (await readFile(join(src, 'index.html'), 'utf8'))
  .replace('%JS%', `/console/${js}`)
  .replace('%CSS%', `/console/${css}`);
await writeFile(join(dist, 'index.html'), html);
const gz = gzipSync(await readFile(join(dist, js))).length;
process.stdout.write(`console: ${js} ${(gz / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_GZIP / 1024} KB)\n`);
if (gz > BUDGET_GZIP) {
  process.stderr.write('console: the JavaScript is over budget\n');
  process.exit(1);
}
