/**
 * The client library against a real Handset started in this process (PGlite on disk, real
 * sockets on 127.0.0.1): both sessions, the queue, the stored password, pushes, refusals.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadServerConfig } from '../../../apps/server/src/config/server-config.js';
import { CLI_PRINCIPAL } from '../../../apps/server/src/directory/principal.js';
import { startHandset, type HandsetServer } from '../../../apps/server/src/main.js';
import { createTestDatabase } from '../../../apps/server/src/store/test-databases.js';
import { decryptSecret, encryptSecret, identifyAuth, SecretDecryptError } from './adapter-crypto.js';
import { SYSCLIENT_PATH } from './adapter-protocol.js';
import { FilePasswordStore, MemoryPasswordStore } from './password-store.js';
import { ProviderClient, type ProvisioningPhone } from './provider-client.js';
import { ExponentialBackoff } from './reconnect-policy.js';
import { SysclientClient, type PhoneConfiguration } from './sysclient-client.js';

let dataDir: string;
// PostgreSQL when it is there (fast to start); else PGlite on disk under dataDir. Both survive a restart.
const pg = await createTestDatabase();
let server: HandsetServer;
let base: string;
/** The clients talk TLS (wss://) to Handset's self-signed certificate; the API calls plain HTTP. */
let secure: { url: string; ca: string };
const tokens: Record<'acme' | 'other', string> = { acme: '', other: '' };
const users: Record<string, string> = {};
const clients: Array<{ close(): void }> = [];
/** The adapter's stored device passwords (filled by the first phone's Identify with its code). */
const passwords = new MemoryPasswordStore();

async function start(): Promise<void> {
  const config = loadServerConfig({
    HANDSET_DATA_DIR: dataDir,
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: '0',
    HANDSET_HTTP_PORT: '0',
    HANDSET_TLS: 'self-signed',
    HANDSET_HTTPS_PORT: '0',
    HANDSET_SIP_TLS_PORT: '0',
    HANDSET_LOG_LEVEL: 'silent',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
  });
  server = await startHandset(config, { runFile: false, logger: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${server.httpPort}`;
  secure = {
    url: `https://127.0.0.1:${server.httpsPort}`,
    ca: await readFile(join(dataDir, 'tls', 'cert.pem'), 'utf8'),
  };
}

async function api(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { docs?: unknown[] } };
}

function track<T extends { close(): void }>(c: T): T {
  clients.push(c);
  return c;
}

/** Collects ProvisioningPhone frames of a client. */
function phonesOf(client: ProviderClient): ProvisioningPhone[] {
  const got: ProvisioningPhone[] = [];
  client.on('provisioningPhone', (p) => got.push(p));
  return got;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fast = new ExponentialBackoff({ initialMs: 50, maxMs: 200 });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'handset-adapter-'));
  await start();
  const s = server.services;
  for (const [name, domain] of [
    ['acme', 'acme.example'],
    ['other', 'other.example'],
  ] as const) {
    const d = await s.domains.create(CLI_PRINCIPAL, { domain });
    const owner = await s.users.create(CLI_PRINCIPAL, d.id, {
      ext: '100',
      extPassword: `owner-sip-${name}`,
      email: `owner@${domain}`,
      role: 'owner',
    });
    tokens[name] = (await s.tokens.create(CLI_PRINCIPAL, owner.id, 'adapter')).token;
    for (const ext of ['1001', '1002']) {
      const u = await s.users.create(CLI_PRINCIPAL, d.id, {
        ext,
        extPassword: `sip-${ext}-${name}`,
        name: `User ${ext}`,
      });
      users[`${ext}@${name}`] = u.id;
    }
  }
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await pg?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('adapter crypto', () => {
  it('decrypts what was encrypted with the same secret, and refuses another secret or a changed byte', () => {
    const sealed = encryptSecret('the-token', 'sip-secret');
    expect(sealed.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(sealed.value).not.toContain(Buffer.from('sip-secret').toString('hex'));
    expect(decryptSecret('the-token', sealed.seed, sealed.value)).toBe('sip-secret');
    expect(() => decryptSecret('another-token', sealed.seed, sealed.value)).toThrow(SecretDecryptError);
    const flipped = (sealed.value[30] === '0' ? '1' : '0') + '';
    const tampered = sealed.value.slice(0, 30) + flipped + sealed.value.slice(31);
    expect(() => decryptSecret('the-token', sealed.seed, tampered)).toThrow(SecretDecryptError);
    expect(() => decryptSecret('the-token', 'zz', sealed.value)).toThrow(SecretDecryptError);
  });

  it('each value gets its own seed and IV', () => {
    const a = encryptSecret('k', 'same');
    const b = encryptSecret('k', 'same');
    expect(a.seed).not.toBe(b.seed);
    expect(a.value).not.toBe(b.value);
  });
});

describe('provider and configuration sessions against a real Handset', () => {
  let adapter: ProviderClient;
  let adapterId = '';
  const received: ProvisioningPhone[] = [];

  it('registers over wss://, and the API lists the adapter online', async () => {
    adapter = track(new ProviderClient({ ...secure, token: tokens.acme, title: 'Lab adapter', reconnect: fast }));
    adapter.on('provisioningPhone', (p) => received.push(p));
    const registered = adapter.once('registered');
    adapter.start();
    [adapterId] = await registered;
    const list = await api(tokens.acme, 'GET', '/adapters');
    expect(list.status).toBe(200);
    expect(list.body.docs).toEqual([expect.objectContaining({ id: adapterId, title: 'Lab adapter', online: true })]);
  });

  it('another domain neither sees the adapter nor can provision through it', async () => {
    expect((await api(tokens.other, 'GET', '/adapters')).body.docs).toEqual([]);
    const res = await api(tokens.other, 'POST', `/adapters/${adapterId}/phones`, {
      mac: '00:11:22:33:44:99',
      lines: [{ line: 1, user: '1001' }],
    });
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('acme');
  });

  it('sends two phones of one request one at a time, the password decrypted with the token', async () => {
    const res = await api(tokens.acme, 'POST', `/adapters/${adapterId}/phones`, {
      phones: [
        { mac: '00:11:22:33:44:01', lines: [{ line: 1, user: '1001' }] },
        { mac: '001122334402', lines: [{ line: 1, user: '1002' }] },
      ],
    });
    expect(res.status).toBe(202);
    await until(() => received.length === 1, 'the first ProvisioningPhone');
    const first = received[0]!;
    expect(first).toMatchObject({ mac: '001122334401', username: '1001', cn: 'User 1001', domain: 'acme.example' });
    expect(first.password).toBe('sip-1001-acme');
    expect(first.code).toMatch(/^[0-9a-f]{32}$/);
    // No second job while the first has no result.
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(1);
    const listed = await api(tokens.acme, 'GET', `/adapters/${adapterId}`);
    expect(listed.body).toMatchObject({ pending: 2, inFlight: first.id });
  });

  let config: PhoneConfiguration | undefined;

  it('identifies with the code, stores the password, and receives the whole configuration ending with last', async () => {
    const first = received[0]!;
    const phone = track(
      new SysclientClient({ ...secure, mac: first.mac, code: first.code, passwords, product: 'test', version: '1' }),
    );
    const identified = phone.once('identified');
    const got = phone.once('config');
    phone.start();
    expect(await identified).toEqual([true]);
    const [c, changed] = await got;
    config = c;
    expect(changed).toEqual(['PHONE', 'MEDIA', 'TLS_PROFILE', 'NTP', 'SIP']);
    expect(await passwords.get(first.mac)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.phone?.coder).toBe('G722,PCMU,PCMA');
    expect(c.ntp).toEqual({ tz: 'UTC', ntp1: 'pool.ntp.org', ntp2: '' });
    expect(c.sip).toMatchObject({ server: '127.0.0.1', port: server.sipPorts.udp, transport: 'udp' });
    expect(c.sip?.lines).toEqual([
      expect.objectContaining({
        line: 1,
        user: '1001',
        authUser: '1001',
        domain: 'acme.example',
        password: 'sip-1001-acme',
      }),
    ]);
    phone.close();
  });

  it('the second phone comes only after the first result', async () => {
    expect(adapter.sendResult(received[0]!.id, 'ok')).toBe(true);
    await until(() => received.length === 2, 'the second ProvisioningPhone');
    expect(received[1]).toMatchObject({ mac: '001122334402', username: '1002', password: 'sip-1002-acme' });
    const phones = await api(tokens.acme, 'GET', `/adapters/${adapterId}/phones`);
    const first = (phones.body.docs as Array<Record<string, unknown>>).find((p) => p.mac === '001122334401');
    expect(first).toMatchObject({ state: 'ok', product: 'test' });
    expect(JSON.stringify(phones.body)).not.toContain('sip-1001-acme');
    expect(JSON.stringify(first?.lastConfig)).toContain('acme.example');
  });

  it('a used code is refused with a clear Error', async () => {
    const ws = await rawSysclient();
    const hello = await ws.next();
    ws.send({
      mt: 'Identify',
      mac: received[0]!.mac,
      product: 'x',
      version: '1',
      info: { type: 'PHONE' },
      code: received[0]!.code,
    });
    expect(await ws.next()).toMatchObject({ mt: 'Error', code: 'IDENTIFY_FAILED' });
    // A new nonce for the next attempt.
    expect((await ws.next()).nonce).not.toBe(hello.nonce);
    ws.close();
  });

  it('reconnects with the stored password (no code) and receives the configuration again', async () => {
    const mac = received[0]!.mac;
    const phone = track(new SysclientClient({ ...secure, mac, passwords, product: 'test', version: '2' }));
    const identified = phone.once('identified');
    const got = phone.once('config');
    phone.start();
    expect(await identified).toEqual([false]);
    const [c] = await got;
    expect(c.sip?.lines[0]?.password).toBe('sip-1001-acme');
    expect(c).toEqual(config);

    // A changed SIP password is pushed, alone, ending with last.
    const pushed = phone.once('config');
    const patch = await api(tokens.acme, 'PATCH', `/users/${users['1001@acme']}`, { extPassword: 'new-sip-1001' });
    expect(patch.status).toBe(200);
    const [after, changed] = await pushed;
    expect(changed).toEqual(['SIP']);
    expect(after.sip?.lines[0]?.password).toBe('new-sip-1001');
    phone.close();
  });

  it('a wrong HMAC is refused and the session may try again with a new nonce', async () => {
    const ws = await rawSysclient();
    const hello = await ws.next();
    ws.send({
      mt: 'Identify',
      mac: received[0]!.mac,
      product: 'x',
      version: '1',
      info: { type: 'PHONE' },
      auth: identifyAuth('not-the-password', String(hello.nonce)),
    });
    const err = await ws.next();
    expect(err).toMatchObject({ mt: 'Error', code: 'IDENTIFY_FAILED' });
    expect(JSON.stringify(err)).not.toMatch(/acme|1001/);
    const again = await ws.next();
    const stored = (await passwords.get(received[0]!.mac))!;
    ws.send({
      mt: 'Identify',
      mac: received[0]!.mac,
      product: 'x',
      version: '1',
      info: { type: 'PHONE' },
      auth: identifyAuth(stored, String(again.nonce)),
    });
    expect(await ws.next()).toMatchObject({ mt: 'SetConfig', config: { type: 'PHONE' }, last: false });
    ws.close();
  });

  it("an adapter token of another domain cannot configure this domain's phone", async () => {
    const ws = await rawSysclient(tokens.other);
    await ws.next();
    ws.send({
      mt: 'Identify',
      mac: received[1]!.mac,
      product: 'x',
      version: '1',
      info: { type: 'PHONE' },
      code: received[1]!.code,
    });
    expect(await ws.next()).toMatchObject({ mt: 'Error', code: 'FORBIDDEN' });
    ws.close();
    // The code was not spent by the refused attempt.
    const phone = track(
      new SysclientClient({
        url: base,
        mac: received[1]!.mac,
        code: received[1]!.code,
        passwords,
        product: 't',
        version: '1',
      }),
    );
    const got = phone.once('config');
    phone.start();
    expect((await got)[0].sip?.lines[0]?.user).toBe('1002');
    phone.close();
  });

  it('a MAC provisioned in another domain is refused without naming it', async () => {
    const otherAdapter = track(new ProviderClient({ url: base, token: tokens.other, title: 'Other', reconnect: fast }));
    const [otherId] = await (() => {
      const p = otherAdapter.once('registered');
      otherAdapter.start();
      return p;
    })();
    const res = await api(tokens.other, 'POST', `/adapters/${otherId}/phones`, {
      mac: '00-11-22-33-44-01',
      lines: [{ line: 1, user: '1001' }],
    });
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).not.toContain('acme');
    otherAdapter.close();
  });

  it('answers unknown mt, malformed JSON and a ProvisioningPhoneResult of no job with Error frames, and stays open', async () => {
    const errors: unknown[] = [];
    adapter.on('error', (e) => errors.push(e));
    adapter.sendRaw({ mt: 'Launch' });
    adapter.sendRaw({ mt: 'ProvisioningPhoneResult', id: 'nope', result: 'ok' });
    await until(() => errors.length === 2, 'two Error frames');
    expect(errors).toEqual([
      expect.objectContaining({ mt: 'Error', code: 'UNKNOWN_MT' }),
      expect.objectContaining({ mt: 'Error', code: 'UNKNOWN_JOB' }),
    ]);
    const ws = await rawSysclient();
    await ws.next();
    ws.sendText('{"mt": "Identify", ');
    expect(await ws.next()).toMatchObject({ mt: 'Error', code: 'BAD_JSON' });
    ws.send({ mt: 'Reboot' });
    expect(await ws.next()).toMatchObject({ mt: 'Error', code: 'UNKNOWN_MT' });
    ws.close();
  });

  it('closes a WebSocket that sends a 10 MB frame with 1009, and the others go on', async () => {
    const ws = await rawSysclient();
    await ws.next();
    const closed = ws.closed();
    ws.sendText('x'.repeat(10 << 20));
    expect((await closed).code).toBe(1009);
    expect((await api(tokens.acme, 'GET', '/adapters')).body.docs).toEqual([
      expect.objectContaining({ id: adapterId, online: true }),
    ]);
  });

  it('the REST route answers malformed and hostile bodies with 4xx and a reason', async () => {
    const post = (body: string) =>
      fetch(`${base}/api/v1/adapters/${adapterId}/phones`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.acme}`, 'content-type': 'application/json' },
        body,
      });
    expect((await post('{"mac":')).status).toBe(400);
    const wrongType = await post(JSON.stringify({ mac: 12, lines: [{ line: 1, user: '1001' }] }));
    expect(wrongType.status).toBe(422);
    const extra = await post(JSON.stringify({ mac: '001122334455', lines: [{ line: 1, user: '1001' }], adapter: 'x' }));
    expect(extra.status).toBe(422);
    const badMac = await post(JSON.stringify({ mac: 'zz:zz:zz:zz:zz:zz', lines: [{ line: 1, user: '1001' }] }));
    expect(badMac.status).toBe(422);
    expect(JSON.stringify(await badMac.json())).toContain('phones.0.mac');
    expect((await post(JSON.stringify({ phones: [], pad: 'x'.repeat(400_000) }))).status).toBe(413);
    const agentless = await fetch(`${base}/api/v1/adapters`);
    expect(agentless.status).toBe(401);
  });

  it('refuses a provider session without a valid token', async () => {
    const res = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/adapters`, {
        headers: { authorization: 'Bearer hst_not-a-token' },
      });
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(res).toBe(401);
  });
});

describe('the queue across a server restart', () => {
  it('jobs queued while the adapter is away reach it after the server restarted', async () => {
    const a = track(new ProviderClient({ url: base, token: tokens.acme, title: 'Restart adapter', reconnect: fast }));
    const reg = a.once('registered');
    a.start();
    const [id] = await reg;
    const got = phonesOf(a);
    a.close();
    const res = await api(tokens.acme, 'POST', `/adapters/${id}/phones`, {
      phones: [
        { mac: '00:11:22:33:55:01', lines: [{ line: 1, user: '1001' }] },
        {
          mac: '00:11:22:33:55:02',
          lines: [
            { line: 1, user: '1002' },
            { line: 2, user: '1001' },
          ],
        },
      ],
    });
    expect(res.status).toBe(202);
    await server.close();
    await start();
    const again = track(
      new ProviderClient({ url: base, token: tokens.acme, title: 'Restart adapter', reconnect: fast }),
    );
    const phones = phonesOf(again);
    const reg2 = again.once('registered');
    again.start();
    expect((await reg2)[0]).toBe(id);
    await until(() => phones.length === 1, 'the first queued job after the restart');
    expect(phones[0]?.mac).toBe('001122335501');
    expect(got).toHaveLength(0);
    // The adapter goes away before answering: the same job comes first when it is back.
    again.close();
    const third = track(
      new ProviderClient({ url: base, token: tokens.acme, title: 'Restart adapter', reconnect: fast }),
    );
    const phones3 = phonesOf(third);
    third.start();
    await until(() => phones3.length === 1, 'the job in flight again');
    expect(phones3[0]?.mac).toBe('001122335501');
    expect(phones3[0]?.code).not.toBe(phones[0]?.code);
    third.sendResult(phones3[0]!.id, 'error', 'no such phone on the bench');
    await until(() => phones3.length === 2, 'the next job');
    expect(phones3[1]?.mac).toBe('001122335502');
  }, 180_000);

  it('a file password store keeps passwords across instances', async () => {
    const path = join(dataDir, 'adapter', 'passwords.json');
    await new FilePasswordStore(path).set('001122334401', 'pw1');
    expect(await new FilePasswordStore(path).get('001122334401')).toBe('pw1');
    expect(await new FilePasswordStore(path).macs()).toEqual(['001122334401']);
  });
});

describe('Identify flood', () => {
  it('1,000 Identify frames a second from one source are mostly refused with RATE_LIMITED', async () => {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => rawSysclient()));
    await Promise.all(sockets.map((s) => s.next()));
    const codes = new Map<string, number>();
    for (const s of sockets)
      s.onFrame((f) => {
        if (f.mt === 'Error') codes.set(String(f.code), (codes.get(String(f.code)) ?? 0) + 1);
      });
    for (let i = 0; i < 20; i++)
      for (const s of sockets)
        s.send({
          mt: 'Identify',
          mac: '0011223344ff',
          product: 'x',
          version: '1',
          info: { type: 'PHONE' },
          code: `guess${i}`,
        });
    await until(() => [...codes.values()].reduce((a, b) => a + b, 0) >= 900, 'answers to the flood', 10_000);
    expect(codes.get('RATE_LIMITED') ?? 0).toBeGreaterThan(900);
    expect(codes.get('IDENTIFY_FAILED') ?? 0).toBeLessThanOrEqual(30);
    // A phone reconnecting meanwhile from the same address is refused for a moment, retries, and gets in.
    const phone = track(new SysclientClient({ ...secure, mac: '001122334401', passwords, product: 't', version: '1' }));
    const errors: string[] = [];
    phone.on('error', (e) => errors.push(e.code));
    // 500 a second in all, 10 per WebSocket (under the per-WebSocket frame limit); the first round
    // empties what the bucket refilled meanwhile.
    const round = () => {
      for (const s of sockets)
        s.send({ mt: 'Identify', mac: '0011223344ff', product: 'x', version: '1', info: { type: 'PHONE' }, code: 'x' });
    };
    round();
    const flood = setInterval(() => (errors.length > 0 ? clearInterval(flood) : round()), 100);
    const got = phone.once('config');
    phone.start();
    try {
      expect((await got)[0].sip?.lines[0]?.user).toBe('1001');
    } finally {
      clearInterval(flood);
    }
    expect(errors).toContain('RATE_LIMITED');
    for (const s of sockets) s.close();
  });
});

/** A bare configuration-session WebSocket for protocol-level tests. */
async function rawSysclient(token?: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}${SYSCLIENT_PATH}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<(f: Record<string, unknown>) => void> = [];
  const listeners: Array<(f: Record<string, unknown>) => void> = [];
  ws.on('message', (d) => {
    const f = JSON.parse((d as Buffer).toString()) as Record<string, unknown>;
    for (const l of listeners) l(f);
    const w = waiters.shift();
    if (w) w(f);
    else queue.push(f);
  });
  ws.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', reject);
  });
  return {
    next: () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const f = queue.shift();
        if (f) return resolve(f);
        const t = setTimeout(() => reject(new Error('no frame')), 5000);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      }),
    onFrame: (l: (f: Record<string, unknown>) => void) => {
      listeners.push(l);
      queue.length = 0;
    },
    send: (f: object) => ws.send(JSON.stringify(f)),
    sendText: (t: string) => ws.send(t),
    closed: () => new Promise<{ code: number }>((resolve) => ws.once('close', (code) => resolve({ code }))),
    close: () => ws.close(),
  };
}
