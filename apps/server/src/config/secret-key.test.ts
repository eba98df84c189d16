import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadSecretKey } from './secret-key.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handset-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadSecretKey', () => {
  it('creates <dataDir>/secret.key with mode 0600 on first use and reuses it', async () => {
    const dataDir = join(dir, 'data');
    const first = await loadSecretKey({ dataDir, secretKey: undefined });
    expect(first).toHaveLength(32);
    const st = await stat(join(dataDir, 'secret.key'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(await loadSecretKey({ dataDir, secretKey: undefined })).toEqual(first);
  });

  it('prefers HANDSET_SECRET_KEY and writes no file', async () => {
    const key = Buffer.alloc(32, 9);
    expect(await loadSecretKey({ dataDir: dir, secretKey: key })).toEqual(key);
    await expect(stat(join(dir, 'secret.key'))).rejects.toThrow();
  });

  it('gives every concurrent caller the same key', async () => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadSecretKey({ dataDir: dir, secretKey: undefined })),
    );
    for (const k of keys) expect(k).toEqual(keys[0]);
    expect(Buffer.from((await readFile(join(dir, 'secret.key'), 'utf8')).trim(), 'base64')).toEqual(keys[0]);
  });

  it('reads a key file written as hex', async () => {
    const key = Buffer.alloc(32, 3);
    await writeFile(join(dir, 'secret.key'), key.toString('hex'));
    expect(await loadSecretKey({ dataDir: dir, secretKey: undefined })).toEqual(key);
  });

  it('refuses a key file that does not hold 32 bytes, naming the file', async () => {
    await writeFile(join(dir, 'secret.key'), 'not a key');
    const err = await loadSecretKey({ dataDir: dir, secretKey: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(join(dir, 'secret.key'));
  });
});
