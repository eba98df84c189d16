import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { createDirectoryServices } from '../directory/directory-services.js';
import { openStore } from '../store/open-store.js';
import { MIGRATIONS } from '../store/migrations.js';
import { runHandset } from './cli-test-helpers.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'handset-dircli-'));
  env = { HANDSET_DATA_DIR: dataDir };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('directory CLI commands without a running server', () => {
  it('migrates, creates a superadmin and a token for it, and the token signs requests as superadmin', async () => {
    const migrate = await runHandset(['db', 'migrate'], env);
    expect(migrate).toEqual({
      code: 0,
      stdout: `database schema is up to date (version ${MIGRATIONS.at(-1)!.version})\n`,
      stderr: '',
    });

    const sa = await runHandset(
      ['superadmin', 'create', 'Root@Ops.example', '--password-stdin'],
      env,
      'a long root password\n',
    );
    expect(sa).toEqual({ code: 0, stdout: 'added superadmin root@ops.example\n', stderr: '' });
    const again = await runHandset(['superadmin', 'create', 'root@ops.example', '--password', 'another long one'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('handset: email root@ops.example is already a superadmin\n');
    const weak = await runHandset(['superadmin', 'create', 'b@ops.example', '--password', 'short'], env);
    expect(weak.stderr).toBe('handset: invalid input: password: at least 8 characters\n');

    const token = await runHandset(['tokens', 'create', 'root@ops.example', '--name', 'automation'], env);
    expect(token.code).toBe(0);
    const lines = token.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^hst_[A-Za-z0-9_-]{43}$/);
    const missing = await runHandset(['tokens', 'create', 'nobody@ops.example'], env);
    expect(missing.stderr).toBe('handset: no user with e-mail nobody@ops.example\n');

    const store = await openStore({ database: { kind: 'pglite', dir: join(dataDir, 'db') } });
    try {
      const services = createDirectoryServices(store, new SecretBox(Buffer.alloc(32)));
      expect(await services.tokens.resolve(lines.at(-1)!)).toMatchObject({
        role: 'superadmin',
        email: 'root@ops.example',
      });
      const signIn = await services.sessions.signIn(
        { email: 'root@ops.example', password: 'a long root password' },
        '127.0.0.1',
      );
      expect(signIn.principal.role).toBe('superadmin');
    } finally {
      await store.close();
    }
  }, 240_000);

  it('adds users with roles and sign-in passwords, groups with members, and lists groups', async () => {
    expect((await runHandset(['domains', 'add', 'cli.example'], env)).code).toBe(0);
    const add = await runHandset(
      [
        'users',
        'add',
        '1001@cli.example',
        '--password',
        'sip-1',
        '--email',
        'ann@cli.example',
        '--role',
        'owner',
        '--login-password',
        'ann-login-pw',
        '--name',
        'Ann',
      ],
      env,
    );
    expect(add).toEqual({ code: 0, stdout: 'added user 1001@cli.example\n', stderr: '' });
    expect((await runHandset(['users', 'add', '1002@cli.example', '--password', 'sip-2'], env)).code).toBe(0);
    expect((await runHandset(['groups', 'add', '700@cli.example', '--name', 'All hands'], env)).code).toBe(0);
    expect((await runHandset(['groups', 'members', '700@cli.example', '1002', '1001'], env)).stdout).toBe(
      'group 700@cli.example (simultaneous): 1002 1001\n',
    );
    const listed = await runHandset(['groups', 'list', '--domain', 'cli.example', '--json'], env);
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        ext: '700',
        domain: 'cli.example',
        name: 'All hands',
        strategy: 'simultaneous',
        ringTimeoutS: 20,
        active: true,
        members: ['1002', '1001'],
      },
    ]);
    const bad = await runHandset(['groups', 'members', '700@cli.example', '9999'], env);
    expect(bad.stderr).toBe('handset: no user 9999@cli.example\n');
  }, 240_000);
});
