import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessIo, runHandset } from './cli-test-helpers.js';
import { runCli } from './run-cli.js';
import { writeRunFile } from './run-file.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'handset-cli-'));
  env = { HANDSET_DATA_DIR: dataDir };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const oneLineError = (stderr: string) => {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.startsWith('handset: ')).toBe(true);
};

describe('handset CLI (child process, embedded database)', () => {
  it('adds a domain and users, then lists them as a table and as JSON', async () => {
    expect(await runHandset(['domains', 'add', 'Acme.Example', '--name', 'Acme'], env)).toEqual({
      code: 0,
      stdout: 'added domain acme.example\n',
      stderr: '',
    });
    expect(
      (await runHandset(['users', 'add', '1001@acme.example', '--password', 's3cret', '--name', 'Alice'], env)).stdout,
    ).toBe('added user 1001@acme.example\n');
    const stdin = await runHandset(
      ['users', 'add', '1002@acme.example', '--password-stdin', '--email', 'bob@acme.example'],
      env,
      'pw from stdin\n',
    );
    expect(stdin.stdout).toBe('added user 1002@acme.example\n');

    const table = await runHandset(['users', 'list', '--domain', 'acme.example'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      [
        'USER               NAME   EMAIL             ACTIVE',
        '1001@acme.example  Alice                    yes',
        '1002@acme.example         bob@acme.example  yes',
        '',
      ].join('\n'),
    );
    expect(table.stdout).not.toContain('s3cret');

    const json = await runHandset(['domains', 'list', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ domain: 'acme.example', name: 'Acme', userCount: 2, active: true }),
    ]);
  }, 120_000);

  it('imports a CSV file, and writes nothing when a line is bad', async () => {
    const good = join(dataDir, 'good.csv');
    await writeFile(good, 'name,ext,password\nCarol,2001,pa\nDan,2002,pb\n');
    expect((await runHandset(['users', 'import', good, '--domain', 'acme.example'], env)).stdout).toBe(
      'imported 2 users into acme.example\n',
    );

    const bad = join(dataDir, 'bad.csv');
    await writeFile(bad, 'ext,password\n3001,a\n3002,b\n3003,c\n3004,d\n3005,e\n1001,f\n');
    const run = await runHandset(['users', 'import', bad, '--domain', 'acme.example'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('handset: line 7: extension 1001 already exists in acme.example\n');
    const list = await runHandset(['users', 'list', '--json'], env);
    expect((JSON.parse(list.stdout) as { ext: string }[]).map((u) => u.ext)).toEqual(['1001', '1002', '2001', '2002']);
  }, 120_000);

  it.each([
    [
      ['users', 'add', '1001@acme.example', '--password', 'x'],
      'handset: extension 1001 already exists in acme.example',
    ],
    [['users', 'add', '1@ghost.example', '--password', 'x'], 'handset: unknown domain ghost.example'],
    [['domains', 'add', 'acme.example'], 'handset: domain acme.example already exists'],
    [
      ['users', 'import', '/nonexistent/u.csv', '--domain', 'acme.example'],
      'handset: no such file: /nonexistent/u.csv',
    ],
    [['users', 'frob'], 'handset: unknown command "users frob" (see handset --help)'],
  ])(
    '%j fails with exit 1 and one line',
    async (args, message) => {
      const run = await runHandset(args, env);
      expect(run.code).toBe(1);
      oneLineError(run.stderr);
      expect(run.stderr.trimEnd()).toBe(message);
      expect(run.stdout).toBe('');
    },
    60_000,
  );

  it('names a bad environment variable', async () => {
    const run = await runHandset(['domains', 'list'], { ...env, HANDSET_SIP_PORT: 'nope' });
    expect(run.code).toBe(1);
    oneLineError(run.stderr);
    expect(run.stderr).toContain('HANDSET_SIP_PORT');
  }, 60_000);

  it('ignores a run file whose server is gone', async () => {
    await writeRunFile(dataDir, { pid: 2 ** 22 + 1, httpPort: 9, adminToken: 'x'.repeat(32) });
    const run = await runHandset(['domains', 'list'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('acme.example');
  }, 60_000);
});

describe('runCli (in process)', () => {
  const io = (envVars: Record<string, string>) => inProcessIo(envVars, dataDir);

  it('prints usage for --help', async () => {
    const t = io({});
    expect(await runCli(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain('Usage: handset');
  });

  it('gives up with one line when another live process holds the embedded database', async () => {
    const lockedDir = await mkdtemp(join(tmpdir(), 'handset-cli-locked-'));
    try {
      await writeFile(join(lockedDir, 'db.lock'), JSON.stringify({ pid: 1, started: 0 }));
      const t = io({ HANDSET_DATA_DIR: lockedDir });
      expect(await runCli(['domains', 'list'], t.io)).toBe(1);
      expect(t.err).toEqual([`handset: the database ${join(lockedDir, 'db')} is in use by process 1\n`]);
    } finally {
      await rm(lockedDir, { recursive: true, force: true });
    }
  });
});
