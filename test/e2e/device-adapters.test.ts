/**
 * Device adapters end to end: the built Handset, the reference adapter (examples/baresip-adapter)
 * as its own process, and the real baresips it provisions. Then the protocol's refusals, over
 * raw WebSockets, against the same server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { interopEnv } from './support/interop-env.js';
import { NetstringDecoder, encodeNetstring } from './support/netstring.js';
import { identifyAuth } from '../../packages/device-adapter/src/adapter-crypto.js';
import { createTestDatabase, type TestDatabase } from '../../apps/server/src/store/test-databases.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const DOMAIN = 'adapters.test';
const OTHER = 'elsewhere.test';
const MAC1 = '02:00:00:00:01:01';
const MAC2 = '02:00:00:00:01:02';
const mac1 = '020000000101';
const mac2 = '020000000102';
const PASSWORDS = { '1001': 'adapter-sip-1001', '1002': 'adapter-sip-1002', new1001: 'changed-sip-1001' };

type LogLine = { at: string; msg: string; [k: string]: unknown };

/** The reference adapter as a child process (`tsx examples/baresip-adapter/src/main.ts`). */
interface AdapterProcess {
  logs: LogLine[];
  output(): string;
  waitFor(msg: string, where?: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

function startAdapter(env: Record<string, string>): AdapterProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'examples/baresip-adapter/src/main.ts')],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: LogLine[] = [];
  let out = '';
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      try {
        logs.push(JSON.parse(l) as LogLine);
      } catch {
        /* not a log line */
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    logs,
    output: () => out,
    async waitFor(msg, where = () => true, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs.find((l) => l.msg === msg && where(l));
        if (hit) return hit;
        if (child.exitCode !== null) throw new Error(`adapter exited (${child.exitCode}) before "${msg}":\n${out}`);
        if (Date.now() > end) throw new Error(`adapter: no "${msg}" within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A ctrl_tcp connection to a baresip the adapter started (its events and commands). */
async function ctrlOf(port: number) {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const decoder = new NetstringDecoder();
  const events: Array<Record<string, unknown>> = [];
  socket.on('data', (c: Buffer) => {
    for (const p of decoder.push(c)) {
      const m = JSON.parse(p) as Record<string, unknown>;
      if (m.event === true) events.push(m);
    }
  });
  socket.on('error', () => undefined);
  return {
    events,
    command: (command: string, params?: string) =>
      socket.write(encodeNetstring(JSON.stringify({ command, params, token: String(Math.random()) }))),
    async waitEvent(type: string, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (!events.some((e) => e.type === type)) {
        if (Date.now() > end) throw new Error(`no ${type}: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => socket.destroy(),
  };
}

/** A raw WebSocket on one of the adapter paths, with a frame queue. */
async function rawWs(h: HandsetProcess, path: string, token?: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${h.httpPort}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<(f: Record<string, unknown>) => void> = [];
  let count = 0;
  const codes = new Map<string, number>();
  ws.on('message', (d) => {
    const f = JSON.parse((d as Buffer).toString()) as Record<string, unknown>;
    count++;
    if (f.mt === 'Error') codes.set(String(f.code), (codes.get(String(f.code)) ?? 0) + 1);
    const w = waiters.shift();
    if (w) w(f);
    else queue.push(f);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
  });
  return {
    codes,
    count: () => count,
    next: (timeoutMs = 10_000) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const f = queue.shift();
        if (f) return resolve(f);
        const t = setTimeout(() => reject(new Error('no frame')), timeoutMs);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      }),
    drain: () => {
      queue.length = 0;
    },
    send: (f: object | string) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    closed,
    close: () => ws.close(),
  };
}

const identify = (mac: string, proof: { code: string } | { auth: string }) => ({
  mt: 'Identify',
  mac,
  product: 'e2e',
  version: '1',
  info: { type: 'PHONE' },
  ...proof,
});

describe('device adapters: the reference baresip adapter provisions phones through Handset', () => {
  let h: HandsetProcess;
  let pg: TestDatabase | undefined;
  let adapter: AdapterProcess | undefined;
  let stateDir: string;
  const tokens = { owner: '', other: '' };
  let adapterId = '';
  const userIds: Record<string, string> = {};

  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${h.httpPort}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { docs?: Array<Record<string, unknown>> },
    };
  };
  const context = () =>
    `--- adapter ---\n${adapter?.output() ?? ''}\n--- handset (tail) ---\n${h?.output().split('\n').slice(-40).join('\n') ?? ''}`;
  const adapterEnv = () => ({
    HANDSET_URL: `http://127.0.0.1:${h.httpPort}`,
    HANDSET_TOKEN: tokens.owner,
    ADAPTER_STATE_DIR: stateDir,
    ADAPTER_TITLE: 'baresip lab',
  });
  const phoneState = async (mac: string) =>
    JSON.parse(await readFile(join(stateDir, mac, 'phone.json'), 'utf8')) as { ctrlPort: number; aors: string[] };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'handset-adapter-state-'));
    // PostgreSQL when it is there: an embedded PGlite can take half a minute to start on a loaded host.
    pg = await createTestDatabase();
    h = await startHandset({ ...interopEnv, ...(pg ? { DATABASE_URL: pg.url } : {}) });
    for (const d of [DOMAIN, OTHER]) {
      await h.cli('domains', 'add', d);
      await h.cli('users', 'add', `100@${d}`, '--password', 'owner-sip', '--email', `owner@${d}`, '--role', 'owner');
      await h.cli('users', 'add', `1001@${d}`, '--password', PASSWORDS['1001'], '--name', 'Alice');
      await h.cli('users', 'add', `1002@${d}`, '--password', PASSWORDS['1002'], '--name', 'Bob');
    }
    tokens.owner = /hst_[A-Za-z0-9_-]+/.exec(await h.cli('tokens', 'create', `owner@${DOMAIN}`))![0];
    tokens.other = /hst_[A-Za-z0-9_-]+/.exec(await h.cli('tokens', 'create', `owner@${OTHER}`))![0];
    const users = await api(tokens.owner, 'GET', '/users');
    for (const u of users.body.docs ?? []) userIds[u.ext as string] = u.id as string;
  });
  afterAll(async () => {
    await adapter?.stop();
    await h?.stop();
    await pg?.drop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('the adapter registers and is listed online', async () => {
    adapter = startAdapter(adapterEnv());
    adapterId = String((await adapter.waitFor('registered as adapter')).id);
    const list = await api(tokens.owner, 'GET', '/adapters');
    expect(list.body.docs).toEqual([expect.objectContaining({ id: adapterId, title: 'baresip lab', online: true })]);
  });

  it('provisions two phones of one request, the second only after the first result; both register', async () => {
    const res = await api(tokens.owner, 'POST', `/adapters/${adapterId}/phones`, {
      phones: [
        { mac: MAC1, lines: [{ line: 1, user: '1001' }] },
        { mac: MAC2, lines: [{ line: 1, user: '1002' }] },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await adapter!
      .waitFor('provisioned', (l) => l.mac === mac2, 90_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${context()}`);
      });
    const order = adapter!.logs
      .filter((l) => ['provisioning phone', 'provisioned'].includes(l.msg))
      .map((l) => `${l.msg} ${String(l.mac)}`);
    expect(order).toEqual([
      `provisioning phone ${mac1}`,
      `provisioned ${mac1}`,
      `provisioning phone ${mac2}`,
      `provisioned ${mac2}`,
    ]);
    const phones = await api(tokens.owner, 'GET', `/adapters/${adapterId}/phones`);
    const byMac = new Map((phones.body.docs ?? []).map((p) => [p.mac as string, p]));
    expect(byMac.get(mac1)).toMatchObject({ state: 'ok', product: 'handset-baresip-adapter' });
    expect(byMac.get(mac2)).toMatchObject({ state: 'ok' });
    // Handset sent the second job after it had the first result.
    expect(Date.parse(byMac.get(mac2)!.sentAt as string)).toBeGreaterThanOrEqual(
      Date.parse(byMac.get(mac1)!.resultAt as string),
    );
    expect(byMac.get(mac1)!.lastConfig).toMatchObject({
      SIP: { transport: 'udp', lines: [{ line: 1, user: '1001', domain: DOMAIN }] },
    });
    // The baresip accounts carry what Handset configured.
    const accounts = await readFile(join(stateDir, mac1, 'accounts'), 'utf8');
    expect(accounts).toContain(`<sip:1001@${DOMAIN};transport=udp>;auth_user=1001;auth_pass=${PASSWORDS['1001']}`);
    expect(accounts).toContain(`outbound="sip:127.0.0.1:${h.sipPort};transport=udp"`);
  });

  it('the two provisioned baresips call each other', async () => {
    const [a, b] = await Promise.all([phoneState(mac1), phoneState(mac2)]);
    const caller = await ctrlOf(a.ctrlPort);
    const callee = await ctrlOf(b.ctrlPort);
    try {
      caller.command('dial', `sip:1002@${DOMAIN}`);
      await Promise.all([caller.waitEvent('CALL_ESTABLISHED'), callee.waitEvent('CALL_ESTABLISHED')]);
      caller.command('hangup');
      await Promise.all([caller.waitEvent('CALL_CLOSED'), callee.waitEvent('CALL_CLOSED')]);
    } finally {
      caller.close();
      callee.close();
    }
  });

  it('after a restart the adapter identifies with the stored password (no code) and gets the configuration again', async () => {
    const before = await api(tokens.owner, 'GET', `/adapters/${adapterId}/phones`);
    const sentBefore = new Map((before.body.docs ?? []).map((p) => [p.mac as string, p.configSentAt as string]));
    await adapter!.stop();
    await expect.poll(async () => (await api(tokens.owner, 'GET', '/adapters')).body.docs?.[0]?.online).toBe(false);
    adapter = startAdapter(adapterEnv());
    for (const mac of [mac1, mac2]) {
      await adapter.waitFor('identified', (l) => l.mac === mac && l.first === false);
      await adapter.waitFor('registered', (l) => l.mac === mac, 60_000);
    }
    expect(
      adapter.logs.some((l) => l.msg === 'provisioning phone'),
      'no new ProvisioningPhone',
    ).toBe(false);
    const after = await api(tokens.owner, 'GET', `/adapters/${adapterId}/phones`);
    for (const p of after.body.docs ?? [])
      expect(Date.parse(p.configSentAt as string)).toBeGreaterThan(Date.parse(sentBefore.get(p.mac as string)!));
  });

  it('a changed SIP password is pushed and baresip registers with it', async () => {
    const seen = adapter!.logs.length;
    const res = await api(tokens.owner, 'PATCH', `/users/${userIds['1001']}`, { extPassword: PASSWORDS.new1001 });
    expect(res.status).toBe(200);
    const got = await adapter!.waitFor(
      'configuration received',
      (l) => l.mac === mac1 && adapter!.logs.indexOf(l) >= seen,
    );
    expect(got.changed).toEqual(['SIP']);
    await adapter!.waitFor('registered', (l) => l.mac === mac1 && adapter!.logs.indexOf(l) >= seen, 60_000);
    const accounts = await readFile(join(stateDir, mac1, 'accounts'), 'utf8');
    expect(accounts).toContain(`auth_pass=${PASSWORDS.new1001}`);
    // The other phone was not touched.
    expect(adapter!.logs.slice(seen).some((l) => l.mac === mac2)).toBe(false);
  });

  it("nothing secret is in the adapter log, nor in Handset's", () => {
    for (const secret of [...Object.values(PASSWORDS), tokens.owner]) {
      expect(adapter!.output()).not.toContain(secret);
      expect(h.output()).not.toContain(secret);
    }
  });

  describe('refusals, each with a clear Error and nothing leaked', () => {
    /** The test acts as a second adapter of the other domain, to hold codes itself. */
    let probe: Awaited<ReturnType<typeof rawWs>>;
    let probeId = '';
    const job = async (mac: string) => {
      const res = await api(tokens.other, 'POST', `/adapters/${probeId}/phones`, {
        mac,
        lines: [{ line: 1, user: '1001' }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const frame = await probe.next();
      expect(frame).toMatchObject({ mt: 'ProvisioningPhone', mac });
      return frame as { id: string; code: string };
    };

    beforeAll(async () => {
      probe = await rawWs(h, '/api/v1/adapters', tokens.other);
      probe.send({ mt: 'Register', apis: { 'handset.provisioning': { title: 'probe' } } });
      probeId = String((await probe.next()).id);
    });
    afterAll(() => probe?.close());

    it('a reused code', async () => {
      const { id, code } = await job('020000000201');
      const s = await rawWs(h, '/api/v1/sysclients');
      await s.next();
      s.send(identify('020000000201', { code }));
      expect(await s.next()).toMatchObject({ mt: 'SetManagerPassword' });
      s.close();
      probe.send({ mt: 'ProvisioningPhoneResult', id, result: 'ok' });
      const again = await rawWs(h, '/api/v1/sysclients');
      await again.next();
      again.send(identify('020000000201', { code }));
      const err = await again.next();
      expect(err).toMatchObject({
        mt: 'Error',
        code: 'IDENTIFY_FAILED',
        message: 'the code is unknown or was already used',
      });
      again.close();
    });

    it('an expired code', async () => {
      const set = await api(tokens.other, 'PUT', '/settings/adapters.code_ttl_s', { value: 10 });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      const { id, code } = await job('020000000202');
      await new Promise((r) => setTimeout(r, 11_000));
      const s = await rawWs(h, '/api/v1/sysclients');
      await s.next();
      s.send(identify('020000000202', { code }));
      expect(await s.next()).toMatchObject({ mt: 'Error', code: 'CODE_EXPIRED' });
      s.close();
      probe.send({ mt: 'ProvisioningPhoneResult', id, result: 'error', error: 'code expired' });
    });

    it('a wrong HMAC', async () => {
      const s = await rawWs(h, '/api/v1/sysclients');
      const hello = await s.next();
      s.send(identify(mac1, { auth: identifyAuth('not-the-device-password', String(hello.nonce)) }));
      const err = await s.next();
      expect(err).toMatchObject({ mt: 'Error', code: 'IDENTIFY_FAILED' });
      expect(JSON.stringify(err)).not.toMatch(/adapters\.test|1001/);
      s.close();
    });

    it('a MAC of another domain', async () => {
      const res = await api(tokens.other, 'POST', `/adapters/${probeId}/phones`, {
        mac: MAC1,
        lines: [{ line: 1, user: '1001' }],
      });
      expect(res.status).toBe(409);
      expect(JSON.stringify(res.body)).not.toContain(DOMAIN);
    });

    it('an adapter token of another domain', async () => {
      // It cannot provision through this domain's adapter...
      const res = await api(tokens.other, 'POST', `/adapters/${adapterId}/phones`, {
        mac: '02:00:00:00:02:09',
        lines: [{ line: 1, user: '1001' }],
      });
      expect(res.status).toBe(404);
      // ...nor open the configuration of this domain's phone, even with its device password.
      const s = await rawWs(h, '/api/v1/sysclients', tokens.other);
      await s.next();
      s.send(identify(mac1, { code: '0'.repeat(32) }));
      const err = await s.next();
      expect(err).toMatchObject({ mt: 'Error', code: 'FORBIDDEN' });
      expect(JSON.stringify(err)).not.toContain(DOMAIN);
      s.close();
    });

    it('an unknown mt and malformed JSON, on both sessions, leave the sessions open', async () => {
      probe.send({ mt: 'FactoryReset' });
      expect(await probe.next()).toMatchObject({ mt: 'Error', code: 'UNKNOWN_MT' });
      probe.send('{"mt":');
      expect(await probe.next()).toMatchObject({ mt: 'Error', code: 'BAD_JSON' });
      const s = await rawWs(h, '/api/v1/sysclients');
      await s.next();
      s.send({ mt: 'SetConfig' });
      expect(await s.next()).toMatchObject({ mt: 'Error', code: 'UNKNOWN_MT' });
      s.send('not json at all');
      expect(await s.next()).toMatchObject({ mt: 'Error', code: 'BAD_JSON' });
      s.close();
    });

    it('a 10 MB frame closes only that WebSocket (1009)', async () => {
      const s = await rawWs(h, '/api/v1/sysclients');
      await s.next();
      s.send('x'.repeat(10 << 20));
      expect(await s.closed).toBe(1009);
      probe.send({ mt: 'Hello?' });
      expect(await probe.next()).toMatchObject({ mt: 'Error', code: 'UNKNOWN_MT' });
    });

    it('1,000 Identify frames a second from one source are refused beyond a small burst', async () => {
      const sockets = await Promise.all(Array.from({ length: 50 }, () => rawWs(h, '/api/v1/sysclients')));
      await Promise.all(sockets.map((s) => s.next()));
      for (const s of sockets) s.drain();
      const started = Date.now();
      for (let i = 0; i < 20; i++) for (const s of sockets) s.send(identify('020000000299', { code: `guess-${i}` }));
      const sent = Date.now() - started;
      await expect
        .poll(() => sockets.reduce((n, s) => n + [...s.codes.values()].reduce((a, b) => a + b, 0), 0), {
          timeout: 15_000,
        })
        .toBe(1000);
      const limited = sockets.reduce((n, s) => n + (s.codes.get('RATE_LIMITED') ?? 0), 0);
      expect(sent, 'the flood went out within a second').toBeLessThan(1000);
      expect(limited).toBeGreaterThanOrEqual(950);
      expect(sockets.reduce((n, s) => n + (s.codes.get('IDENTIFY_FAILED') ?? 0), 0)).toBeLessThanOrEqual(50);
      for (const s of sockets) s.close();
      // The provisioned phones' sessions are untouched: the adapter is still online.
      expect((await api(tokens.owner, 'GET', `/adapters/${adapterId}`)).body).toMatchObject({ online: true });
    });
  });
});
