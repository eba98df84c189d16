import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUN_FILE, readRunFile, removeRunFile, writeRunFile } from './run-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handset-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const info = { pid: 4242, httpPort: 8080, adminToken: 'a'.repeat(32) };

describe('run file', () => {
  it('round-trips and is readable only by its owner', async () => {
    await writeRunFile(dir, info);
    expect(await readRunFile(dir)).toEqual(info);
    expect((await stat(join(dir, RUN_FILE))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, RUN_FILE), 'utf8'))).toEqual(info);
  });

  it('reads a missing, garbled or incomplete file as absent', async () => {
    expect(await readRunFile(dir)).toBeUndefined();
    await writeFile(join(dir, RUN_FILE), '{not json');
    expect(await readRunFile(dir)).toBeUndefined();
    await writeFile(join(dir, RUN_FILE), JSON.stringify({ pid: 1, httpPort: 8080 }));
    expect(await readRunFile(dir)).toBeUndefined();
  });

  it("removes only its own process's file", async () => {
    await writeRunFile(dir, info);
    await removeRunFile(dir, 1);
    expect(await readRunFile(dir)).toEqual(info);
    await removeRunFile(dir, 4242);
    expect(await readRunFile(dir)).toBeUndefined();
    await removeRunFile(dir, 4242); // already gone: no error
  });
});
