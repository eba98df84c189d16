import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../cli/cli-args.js';
import { runCli } from '../cli/run-cli.js';
import { loadSecretKey } from '../config/secret-key.js';
import { nodeIdentity, resolveNodeId } from './node-identity.js';
import { showServerKey } from './key-show.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'handset-key-'));
  dirs.push(d);
  return d;
}

describe('handset key show', () => {
  it('prints the key the server uses, as HANDSET_SECRET_KEY takes it', async () => {
    const dir = await dataDir();
    const key = await loadSecretKey({ dataDir: dir, secretKey: undefined });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['key', 'show'], {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      env: { HANDSET_DATA_DIR: dir },
      cwd: dir,
      readStdin: () => Promise.resolve(''),
      start: () => Promise.resolve(0),
    });
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toBe(key.toString('base64') + '\n');
  });

  it('refuses anyone but the owner of the data directory, and says why', async () => {
    const dir = await dataDir();
    await loadSecretKey({ dataDir: dir, secretKey: undefined });
    const stranger = (process.getuid?.() ?? 1000) + 4242;
    await expect(showServerKey({ dataDir: dir, secretKey: undefined }, stranger)).rejects.toThrow(/only the owner/);
  });

  it('does not invent a key for a data directory that has none', async () => {
    const dir = await dataDir();
    await expect(showServerKey({ dataDir: dir, secretKey: undefined })).rejects.toThrow(/HANDSET_SECRET_KEY/);
    await writeFile(join(dir, 'secret.key'), 'short\n');
    await expect(showServerKey({ dataDir: dir, secretKey: undefined })).rejects.toThrow(/32-byte/);
  });

  it('takes no arguments', () => {
    expect(parseCliArgs(['key', 'show'])).toEqual({ kind: 'key-show' });
    expect(() => parseCliArgs(['key', 'show', 'extra'])).toThrow(/usage/);
  });
});

describe('node identity', () => {
  it('is HANDSET_NODE_ID when set, else derived once and kept in the data directory', async () => {
    const dir = await dataDir();
    expect(await resolveNodeId(dir, 'edge-1')).toBe('edge-1');
    const first = await resolveNodeId(dir);
    expect(first).toMatch(/^[a-z0-9][a-z0-9.-]*-[0-9a-f]{6}$/);
    expect(await resolveNodeId(dir)).toBe(first);
    const [a, b] = await Promise.all([nodeIdentity(dir), nodeIdentity(dir)]);
    expect(a.id).toBe(first);
    expect(a.run).not.toBe(b.run);
  });

  it('refuses a damaged node-id file with a message naming it', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, 'node-id'), 'bad id with spaces\n');
    await expect(resolveNodeId(dir)).rejects.toThrow(/node-id/);
  });
});
