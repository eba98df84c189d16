// Serves the component gallery (gallery.tsx) on 127.0.0.1: `npm run gallery -w apps/webphone`,
// then open the printed address. Rebuilds on each request (esbuild's serve mode); stops on Ctrl-C.
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = await mkdtemp(join(tmpdir(), 'handset-gallery-'));
await copyFile(join(here, 'gallery.html'), join(out, 'index.html'));
await mkdir(join(out, 'icons'));
await copyFile(join(here, '..', 'icon.svg'), join(out, 'icons', 'icon.svg'));
const ctx = await context({
  entryPoints: { gallery: join(here, 'gallery.tsx'), styles: join(here, '..', 'styles.css') },
  outdir: out,
  bundle: true,
  format: 'esm',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
});
const { host, port } = await ctx.serve({ servedir: out, host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`gallery: http://${host}:${port}/\n`);
process.once('SIGINT', () => void ctx.dispose().then(() => process.exit(0)));
