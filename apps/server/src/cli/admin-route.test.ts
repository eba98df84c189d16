import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { DirectoryService } from '../directory/directory-service.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { CdrRepository } from '../proxy/cdr-repository.js';
import { ADMIN_PATH, ADMIN_TOKEN_HEADER, registerAdminRoute } from './admin-route.js';
import { runHandset } from './cli-test-helpers.js';
import { writeRunFile } from './run-file.js';

const token = randomBytes(24).toString('base64url');
let store: Store;
let directory: DirectoryService;
let services: DirectoryServices;
let app: FastifyInstance;

beforeAll(async () => {
  store = await openStore({ database: { kind: 'pglite', dir: undefined } });
  const secrets = new SecretBox(randomBytes(32));
  directory = new DirectoryService(store, secrets);
  services = createDirectoryServices(store, secrets);
  app = Fastify();
  registerAdminRoute(app, { token, directory, cdrs: new CdrRepository(store), services });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await store.close();
});

const post = (
  body: unknown,
  headers: Record<string, string> = { [ADMIN_TOKEN_HEADER]: token },
  remoteAddress = '127.0.0.1',
) => app.inject({ method: 'POST', url: ADMIN_PATH, headers, payload: body as object, remoteAddress });

describe('POST /internal/admin', () => {
  it('runs a command and answers its result', async () => {
    const res = await post({ command: 'domains.add', args: { domain: 'Route.Example', name: 'R' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'domain', domain: { domain: 'route.example', name: 'R', active: true } });
    expect(await directory.isLocalDomain('route.example')).toBe(true);
  });

  it('refuses a missing or wrong token with 401 and runs nothing', async () => {
    const cmd = { command: 'domains.add', args: { domain: 'sneaky.example' } };
    expect((await post(cmd, {})).statusCode).toBe(401);
    const wrong = await post(cmd, { [ADMIN_TOKEN_HEADER]: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong admin token' } });
    expect((await post(cmd, { [ADMIN_TOKEN_HEADER]: '' })).statusCode).toBe(401);
    expect(await directory.getDomain('sneaky.example')).toBeUndefined();
  });

  it('refuses a client that is not on loopback, even with the token', async () => {
    const res = await post({ command: 'domains.list', args: {} }, { [ADMIN_TOKEN_HEADER]: token }, '192.0.2.5');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(
      (await post({ command: 'domains.list', args: {} }, { [ADMIN_TOKEN_HEADER]: token }, '::ffff:127.0.0.1'))
        .statusCode,
    ).toBe(200);
    expect((await post({ command: 'domains.list', args: {} }, { [ADMIN_TOKEN_HEADER]: token }, '::1')).statusCode).toBe(
      200,
    );
  });

  it.each([
    ['an unknown command', { command: 'domains.drop', args: {} }],
    ['missing arguments', { command: 'users.add', args: { domain: 'route.example' } }],
    ['a non-object body', [1, 2]],
    ['arguments of the wrong type', { command: 'domains.add', args: { domain: 42 } }],
  ])('answers 400 INVALID_INPUT to %s', async (_label, body) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
  });

  it('maps directory errors to 4xx with code and message', async () => {
    const dup = await post({ command: 'domains.add', args: { domain: 'route.example' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({ error: { code: 'DUPLICATE_DOMAIN', message: 'domain route.example already exists' } });
    const missing = await post({ command: 'users.add', args: { domain: 'ghost.example', ext: '1', password: 'p' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DOMAIN_NOT_FOUND');
    const csv = await post({
      command: 'users.import',
      args: { domain: 'route.example', csv: 'ext,password\n1,a\n2,\n' },
    });
    expect(csv.statusCode).toBe(422);
    expect(csv.json()).toEqual({ error: { code: 'CSV_LINE', message: 'line 3: password must not be empty', line: 3 } });
  });

  it('never returns passwords', async () => {
    await post({ command: 'users.add', args: { domain: 'route.example', ext: '500', password: 'NeverShown' } });
    const res = await post({ command: 'users.list', args: { domain: 'route.example' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('NeverShown');
    expect(res.json().users.map((u: { ext: string }) => u.ext)).toEqual(['500']);
  });
});

describe('the CLI while a server holds the database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'handset-remote-'));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    // The run file names this (live) test process as the server.
    await writeRunFile(dataDir, { pid: process.pid, httpPort: port, adminToken: token });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sends commands to the server and never opens the database itself', async () => {
    const env = { HANDSET_DATA_DIR: dataDir };
    const add = await runHandset(['domains', 'add', 'remote.example', '--name', 'Remote'], env);
    expect(add).toEqual({ code: 0, stdout: 'added domain remote.example\n', stderr: '' });
    expect(await directory.getDomain('remote.example')).toMatchObject({ name: 'Remote' });

    await writeFile(join(dataDir, 'u.csv'), 'ext,password,name\n100,a,Ann\n101,b,Ben\n');
    const imp = await runHandset(['users', 'import', join(dataDir, 'u.csv'), '--domain', 'remote.example'], env);
    expect(imp.stdout).toBe('imported 2 users into remote.example\n');

    const list = await runHandset(['users', 'list', '--domain', 'remote.example', '--json'], env);
    expect((JSON.parse(list.stdout) as { ext: string }[]).map((u) => u.ext)).toEqual(['100', '101']);

    const dup = await runHandset(['users', 'add', '100@remote.example', '--password', 'x'], env);
    expect(dup).toEqual({ code: 1, stdout: '', stderr: 'handset: extension 100 already exists in remote.example\n' });

    const owner = await runHandset(
      ['users', 'add', '102@remote.example', '--password', 'sip-pw', '--email', 'own@remote.example', '--role', 'owner', '--login-password', 'sign-in-pw'],
      env,
    );
    expect(owner).toEqual({ code: 0, stdout: 'added user 102@remote.example\n', stderr: '' });
    const group = await runHandset(['groups', 'add', '200@remote.example', '--name', 'Front desk', '--strategy', 'sequential'], env);
    expect(group.code).toBe(0);
    const members = await runHandset(['groups', 'members', '200@remote.example', '101', '100'], env);
    expect(members.stdout).toBe('group 200@remote.example (sequential): 101 100\n');
    const clash = await runHandset(['users', 'add', '200@remote.example', '--password', 'x'], env);
    expect(clash.stderr).toBe('handset: extension 200 already exists in remote.example (a group has it)\n');
    const token = await runHandset(['tokens', 'create', 'own@remote.example'], env);
    expect(token.code).toBe(0);
    const secret = token.stdout.trimEnd().split('\n').at(-1)!;
    expect(await services.tokens.resolve(secret)).toMatchObject({ role: 'owner', domain: 'remote.example', via: 'token' });

    expect(await readdir(dataDir)).not.toContain('db');
  }, 120_000);

  it('reports a server that does not answer in one line', async () => {
    const deadDir = await mkdtemp(join(tmpdir(), 'handset-remote-dead-'));
    try {
      // A live pid (this process) but a port nobody listens on.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const { port } = probe.address() as { port: number };
      await new Promise((r) => probe.close(r));
      await writeRunFile(deadDir, { pid: process.pid, httpPort: port, adminToken: token });
      const run = await runHandset(['domains', 'list'], { HANDSET_DATA_DIR: deadDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^handset: cannot reach the running Handset \(pid \d+\) on port \d+: ECONNREFUSED\n$/);
    } finally {
      await rm(deadDir, { recursive: true, force: true });
    }
  }, 60_000);
});
