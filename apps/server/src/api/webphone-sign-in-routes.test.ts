/** The web phone's public sign-in routes (SIP account, sign-up) and the agent/balance routes, in process. */
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { openStore } from '../store/open-store.js';
import { auditLog, cdrs } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { WebphoneAccountService } from '../webphone/webphone-account-service.js';
import { availableMembersOnly, WebphoneUserStateService } from '../webphone/webphone-user-state-service.js';
import { webphoneTestApp } from './webphone-test-app.js';
import { defineWebphoneSettings } from './webphone-settings.js';

type Actor = 'ownerA' | 'agentA' | 'agentA2' | 'ownerB' | 'agentB';
const PASSWORD = 'correct horse battery';
const sip = (a: Actor) => `sip-${a}-secret`;

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

describe('availableMembersOnly', () => {
  it('drops members that are not available and keeps the order of the rest', async () => {
    const inner = {
      resolveGroup: (_d: string, ext: string) =>
        Promise.resolve(
          ext === '600' ? { strategy: 'sequential' as const, ringTimeoutS: 5, members: ['1', '2', '3'] } : undefined,
        ),
    };
    const filtered = availableMembersOnly(inner, { unavailable: () => Promise.resolve(new Set(['2'])) });
    expect((await filtered.resolveGroup('x.example', '600'))?.members).toEqual(['1', '3']);
    expect(await filtered.resolveGroup('x.example', '601')).toBeUndefined();
  });
});

describe.each(testBackends(pgdb))('web phone sign-in, sign-up, agent and balance on %s', (_name, database) => {
  let store: Store;
  let services: DirectoryServices;
  let app: FastifyInstance;
  let domainA: string;
  let domainB: string;
  const ids = {} as Record<Actor, string>;
  const tokens = {} as Record<Actor, string>;
  const ext = {} as Record<Actor, string>;

  const req = (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    o: { token?: string; body?: unknown; ip?: string; host?: string } = {},
  ) =>
    app.inject({
      method,
      url,
      remoteAddress: o.ip ?? '127.0.0.1',
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.host ? { host: o.host } : {}),
      },
      ...(o.body === undefined ? {} : { payload: o.body as object }),
    });
  const setting = (domainId: string, key: string, value: unknown) =>
    services.settings.set(CLI_PRINCIPAL, key, value, domainId);
  const sipLogin = (account: string, password: string, ip = '127.0.0.1') =>
    req('POST', '/api/v1/webphone/sip-login', { body: { account, password }, ip });

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    const secrets = new SecretBox(randomBytes(32));
    services = createDirectoryServices(store, secrets);
    defineWebphoneSettings(services.settingsRegistry);
    const account = new WebphoneAccountService({
      store,
      secrets,
      services,
      maxFailuresPerAccount: 3,
      maxFailuresPerAddress: 40,
      signUpsPerAddress: 3,
    });
    app = await webphoneTestApp({ services, account, userState: new WebphoneUserStateService(store, services.audit) });
    await app.ready();
    domainA = (await services.domains.create(CLI_PRINCIPAL, { domain: 'a.example' })).id;
    domainB = (await services.domains.create(CLI_PRINCIPAL, { domain: 'b.example' })).id;
    let n = 100;
    for (const [actor, domainId, role] of [
      ['ownerA', domainA, 'owner'],
      ['agentA', domainA, 'agent'],
      ['agentA2', domainA, 'agent'],
      ['ownerB', domainB, 'owner'],
      ['agentB', domainB, 'agent'],
    ] as const) {
      ext[actor] = String(n++);
      const u = await services.users.create(CLI_PRINCIPAL, domainId, {
        ext: ext[actor],
        extPassword: sip(actor),
        email: `${actor.toLowerCase()}@example.org`,
        name: actor,
        password: PASSWORD,
        role,
      });
      ids[actor] = u.id;
      tokens[actor] = (await services.tokens.create(CLI_PRINCIPAL, u.id, 't')).token;
    }
  }, 120_000);
  afterAll(async () => {
    if (!database) return;
    await app.close();
    await store.close();
  });

  it.skipIf(!database)('sign-in options: what the domain offers, nothing for an unknown domain', async () => {
    const get = async (q: string, host?: string) =>
      (await req('GET', `/api/v1/webphone/sign-in-options${q}`, host ? { host } : {})).json<Record<string, unknown>>();
    expect(await get('?domain=a.example')).toEqual({ sipLogin: false, register: false });
    await setting(domainA, 'webphone.sip_login', true);
    await setting(domainA, 'webphone.brand_name', 'Acme');
    expect(await get('?domain=A.example')).toEqual({ sipLogin: true, register: false, brandName: 'Acme' });
    // Without ?domain=, the page's host names the domain.
    expect(await get('', 'a.example:8080')).toMatchObject({ sipLogin: true });
    expect(await get('?domain=nope.example')).toEqual({ sipLogin: false, register: false });
    const bad = await req('GET', `/api/v1/webphone/sign-in-options?domain=${'a'.repeat(300)}`);
    expect(bad.statusCode).toBe(422);
    await setting(domainA, 'webphone.sip_login', null);
  });

  it.skipIf(!database)(
    'SIP sign-in is refused alike when the flag is off, the password wrong or the account unknown',
    async () => {
      const off = await sipLogin(`${ext.agentA}@a.example`, sip('agentA'));
      expect(off.statusCode).toBe(401);
      await setting(domainA, 'webphone.sip_login', true);
      const wrong = await sipLogin(`${ext.agentA}@a.example`, 'not-it');
      const unknown = await sipLogin('999@a.example', 'whatever');
      const noDomain = await sipLogin(`${ext.agentA}@nope.example`, sip('agentA'));
      // agentB's own password on a.example, and on b.example where the flag is off.
      const otherDomain = await sipLogin(`${ext.agentB}@a.example`, sip('agentB'));
      const flagOffB = await sipLogin(`${ext.agentB}@b.example`, sip('agentB'));
      // An owner's SIP password does not open a session (it would carry the owner's rights).
      const owner = await sipLogin(`${ext.ownerA}@a.example`, sip('ownerA'));
      for (const r of [wrong, unknown, noDomain, otherDomain, flagOffB, owner]) {
        expect(r.statusCode).toBe(401);
        expect(r.json()).toEqual(off.json());
      }
      expect(off.body).not.toMatch(/flag|exist|owner/i);
    },
  );

  it.skipIf(!database)('a SIP sign-in opens a session for that agent alone, which reaches its config', async () => {
    await setting(domainA, 'webphone.sip_login', true);
    const ok = await sipLogin(`sip:${ext.agentA}@A.example`, sip('agentA'));
    expect(ok.statusCode, ok.body).toBe(200);
    const { token, ext: e, domain } = ok.json<{ token: string; ext: string; domain: string }>();
    expect([e, domain]).toEqual([ext.agentA, 'a.example']);
    const me = (await req('GET', '/api/v1/auth/me', { token })).json<{ userId: string; role: string }>();
    expect(me).toMatchObject({ userId: ids.agentA, role: 'agent' });
    const cfg = await req('GET', '/api/v1/webphone/config', { token });
    expect(cfg.json<{ sip: { username: string } }>().sip.username).toBe(ext.agentA);
    // Limited to itself: no colleague's profile, no settings.
    expect((await req('GET', `/api/v1/users/${ids.agentA2}`, { token })).statusCode).toBe(404);
    expect((await req('GET', '/api/v1/settings', { token })).statusCode).toBe(403);
    const audit = await store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, ids.agentA), eq(auditLog.action, 'login')));
    expect(audit.map((a) => a.detail)).toContainEqual({ method: 'sip-password' });
  });

  it.skipIf(!database)('locks an account after three failures, and a source address after many', async () => {
    await setting(domainA, 'webphone.sip_login', true);
    const account = `${ext.agentA2}@a.example`;
    for (let i = 0; i < 3; i++) expect((await sipLogin(account, `wrong-${i}`, '10.0.0.1')).statusCode).toBe(401);
    const locked = await sipLogin(account, sip('agentA2'), '10.0.0.2');
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    // One address trying many accounts is blocked too, whatever it tries next.
    for (let i = 0; i < 40; i++) await sipLogin(`${5000 + i}@a.example`, 'x', '10.0.0.3');
    expect((await sipLogin(`${ext.agentA}@a.example`, sip('agentA'), '10.0.0.3')).statusCode).toBe(429);
    expect((await sipLogin(`${ext.agentA}@a.example`, sip('agentA'), '10.0.0.4')).statusCode).toBe(200);
  });

  it.skipIf(!database)('answers hostile SIP sign-in input with 4xx: oversized, malformed, wrong types', async () => {
    for (const body of [
      { account: `${'1'.repeat(5000)}@a.example`, password: 'x' },
      { account: '101@a.example', password: 'p'.repeat(5000) },
      { account: '101@a.example' },
      { account: 101, password: 'x' },
      { account: '101@a.example', password: 'x', role: 'owner' },
      [{ account: '101@a.example', password: 'x' }],
    ]) {
      const r = await req('POST', '/api/v1/webphone/sip-login', { body, ip: '10.1.0.1' });
      expect(r.statusCode, JSON.stringify(body).slice(0, 60)).toBe(422);
    }
    for (const account of ['no-at-sign', '101@', "101@a.example' or 1=1 --", '\u0000@a.example', '1@a@b.example']) {
      const r = await sipLogin(account, 'x', '10.1.0.2');
      expect(r.statusCode, account).toBe(401);
    }
    const junk = await app.inject({
      method: 'POST',
      url: '/api/v1/webphone/sip-login',
      headers: { 'content-type': 'application/json' },
      payload: '{"account": "1@a.example", "password": ',
    });
    expect(junk.statusCode).toBe(400);
    const huge = await app.inject({
      method: 'POST',
      url: '/api/v1/webphone/sip-login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ account: 'x'.repeat(300 << 10), password: 'x' }),
    });
    expect(huge.statusCode).toBe(413);
  });

  it.skipIf(!database)('sign-up is refused while webphone.register is off, and for an unknown domain', async () => {
    const body = { domain: 'b.example', name: 'Zed', email: 'zed@example.org', password: 'zed-password-1' };
    const off = await req('POST', '/api/v1/webphone/sign-up', { body, ip: '10.2.0.1' });
    expect(off.statusCode).toBe(403);
    const unknown = await req('POST', '/api/v1/webphone/sign-up', {
      body: { ...body, domain: 'nope.example' },
      ip: '10.2.0.1',
    });
    expect(unknown.statusCode).toBe(403);
    expect(unknown.json()).toEqual(off.json());
    const users = await services.users.list(CLI_PRINCIPAL, { keyword: 'zed@example.org' });
    expect(users.totalDocs).toBe(0);
  });

  it.skipIf(!database)(
    'sign-up creates an agent with the next free extension and a SIP password, signs it in, audits it',
    async () => {
      await setting(domainB, 'webphone.register', true);
      const body = { name: 'Yara', email: 'Yara@Example.org', password: 'yara-password-1' };
      // The host names the domain when the link carries no ?domain=.
      const r = await req('POST', '/api/v1/webphone/sign-up', { body, ip: '10.3.0.1', host: 'b.example' });
      expect(r.statusCode, r.body).toBe(201);
      const s = r.json<{ token: string; ext: string; domain: string }>();
      expect(s).toMatchObject({ ext: String(Number(ext.agentB) + 1), domain: 'b.example' });
      const cfg = (await req('GET', '/api/v1/webphone/config', { token: s.token })).json<{
        user: { role: string; email: string; name: string };
        sip: { password: string; username: string };
      }>();
      expect(cfg.user).toMatchObject({ role: 'agent', email: 'yara@example.org', name: 'Yara' });
      expect(cfg.sip.password.length).toBeGreaterThanOrEqual(20);
      // It can also sign in with e-mail and password.
      const login = await req('POST', '/api/v1/auth/login', {
        body: { email: 'yara@example.org', password: 'yara-password-1' },
      });
      expect(login.statusCode).toBe(200);
      const audit = await store.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'sign-up'), eq(auditLog.domainId, domainB)));
      expect(audit[0]?.detail).toMatchObject({ ext: s.ext, email: 'yara@example.org', address: '10.3.0.1' });

      // With a range, the lowest free number of it; a taken e-mail is a conflict.
      await setting(domainB, 'webphone.register_ext_range', '2000-2001');
      await services.groups.create(CLI_PRINCIPAL, domainB, { name: 'Sales', ext: '2000' });
      const ranged = await req('POST', '/api/v1/webphone/sign-up', {
        body: { domain: 'b.example', name: 'Xia', email: 'xia@example.org', password: 'xia-password-1' },
        ip: '10.3.0.2',
      });
      expect(ranged.json<{ ext: string }>().ext).toBe('2001');
      const full = await req('POST', '/api/v1/webphone/sign-up', {
        body: { domain: 'b.example', name: 'Wu', email: 'wu@example.org', password: 'wu-password-1' },
        ip: '10.3.0.3',
      });
      expect(full.statusCode).toBe(409);
      await setting(domainB, 'webphone.register_ext_range', null);
      const dup = await req('POST', '/api/v1/webphone/sign-up', {
        body: { domain: 'b.example', name: 'Yara 2', email: 'yara@example.org', password: 'yara-password-2' },
        ip: '10.3.0.4',
      });
      expect(dup.statusCode).toBe(409);
      expect(dup.body).not.toContain('yara-password');
    },
  );

  it.skipIf(!database)('refuses hostile sign-up input with 4xx and rate-limits a source address', async () => {
    await setting(domainB, 'webphone.register', true);
    const good = { domain: 'b.example', name: 'Vic', email: 'vic@example.org', password: 'vic-password-1' };
    const cases: unknown[] = [
      { ...good, password: 'short' },
      { ...good, email: 'not-an-email' },
      { ...good, name: '' },
      { ...good, name: 'a\u0000b' },
      { ...good, name: 'n'.repeat(1001) },
      { ...good, role: 'owner' },
      { ...good, domain: '../../etc' },
      { ...good, email: ['vic@example.org'] },
    ];
    for (const [i, body] of cases.entries()) {
      const r = await req('POST', '/api/v1/webphone/sign-up', { body, ip: `10.4.0.${i + 1}` });
      expect(r.statusCode, JSON.stringify(body).slice(0, 80)).toBe(422);
    }
    expect((await services.users.list(CLI_PRINCIPAL, { keyword: 'vic@example.org' })).totalDocs).toBe(0);
    for (let i = 0; i < 3; i++)
      await req('POST', '/api/v1/webphone/sign-up', { body: { ...good, password: 'x' }, ip: '10.5.0.1' });
    const limited = await req('POST', '/api/v1/webphone/sign-up', { body: good, ip: '10.5.0.1' });
    expect(limited.statusCode).toBe(429);
  });

  it.skipIf(!database)("keeps the agent status server-side and counts today's calls from CDRs", async () => {
    const t = tokens.agentA;
    const first = await req('GET', '/api/v1/webphone/agent', { token: t });
    expect(first.json()).toMatchObject({ state: 'available', today: { total: 0 } });
    expect((await req('PUT', '/api/v1/webphone/agent', { token: t, body: { state: 'away' } })).statusCode).toBe(200);
    expect((await req('GET', '/api/v1/webphone/agent', { token: t })).json()).toMatchObject({ state: 'away' });
    expect((await req('GET', '/api/v1/webphone/config', { token: t })).json()).toMatchObject({ agentState: 'away' });
    const state = new WebphoneUserStateService(store, services.audit);
    expect([...(await state.unavailable('a.example', [ext.agentA, ext.agentA2]))]).toEqual([ext.agentA]);
    for (const body of [{ state: 'asleep' }, { state: 'away', extra: 1 }, {}])
      expect((await req('PUT', '/api/v1/webphone/agent', { token: t, body })).statusCode).toBe(422);
    expect(
      (await req('PUT', '/api/v1/webphone/agent', { token: tokens.ownerA, body: { state: 'dnd' } })).statusCode,
    ).toBe(200);
    // Another user's status is untouched by these.
    expect((await req('GET', '/api/v1/webphone/agent', { token: tokens.agentA2 })).json()).toMatchObject({
      state: 'available',
    });

    const me = `${ext.agentA}@a.example`;
    const other = `${ext.agentA2}@a.example`;
    const now = Date.now();
    const cdr = (caller: string, callee: string, disposition: string, billableS: number, agoMs: number) => ({
      domain: 'a.example',
      callId: randomBytes(6).toString('hex'),
      caller,
      callee,
      startedAt: new Date(now - agoMs),
      endedAt: new Date(now - agoMs + 1000),
      durationS: billableS + 1,
      billableS,
      disposition,
      sipStatus: disposition === 'answered' ? 200 : 486,
    });
    await store.db
      .insert(cdrs)
      .values([
        cdr(me, other, 'answered', 30, 60_000),
        cdr(other, me, 'answered', 12, 50_000),
        cdr(other, me, 'no-answer', 0, 40_000),
        cdr(other, '600@a.example', 'answered', 5, 30_000),
        cdr(me, other, 'answered', 99, 30 * 3600_000),
      ]);
    const since = new Date(now - 3600_000).toISOString();
    const r = await req('GET', `/api/v1/webphone/agent?since=${encodeURIComponent(since)}`, { token: t });
    expect(r.json<{ today: unknown }>().today).toMatchObject({
      total: 3,
      outgoing: 1,
      incoming: 2,
      answered: 2,
      missed: 1,
      talkS: 42,
    });
    for (const bad of [
      'yesterday',
      new Date(now - 72 * 3600_000).toISOString(),
      new Date(now + 3600_000).toISOString(),
    ])
      expect(
        (await req('GET', `/api/v1/webphone/agent?since=${encodeURIComponent(bad)}`, { token: t })).statusCode,
      ).toBe(422);
    await req('PUT', '/api/v1/webphone/agent', { token: t, body: { state: 'available' } });
  });

  it.skipIf(!database)('a manager sets a balance that the user sees; nobody else may', async () => {
    const url = `/api/v1/webphone/users/${ids.agentA}/balance`;
    const cfg = async () =>
      (await req('GET', '/api/v1/webphone/config', { token: tokens.agentA })).json<{
        balance: unknown;
        currency: unknown;
      }>();
    expect(await cfg()).toMatchObject({ balance: null, currency: null });
    const set = await req('PUT', url, { token: tokens.ownerA, body: { balance: 12.5, currency: 'USD' } });
    expect(set.statusCode, set.body).toBe(200);
    expect(await cfg()).toMatchObject({ balance: 12.5, currency: 'USD' });
    expect((await req('GET', url, { token: tokens.agentA })).json()).toEqual({ balance: 12.5, currency: 'USD' });
    expect((await req('PUT', url, { token: tokens.agentA, body: { balance: 1e9 } })).statusCode).toBe(403);
    expect((await req('PUT', url, { token: tokens.ownerB, body: { balance: 1 } })).statusCode).toBe(404);
    expect((await req('GET', url, { token: tokens.agentA2 })).statusCode).toBe(404);
    for (const body of [
      { balance: 'lots' },
      { balance: 1e13 },
      { balance: 1, currency: 'dollars' },
      { currency: 'USD' },
    ])
      expect((await req('PUT', url, { token: tokens.ownerA, body })).statusCode, JSON.stringify(body)).toBe(422);
    expect(
      (await req('PUT', `/api/v1/webphone/users/not-a-uuid/balance`, { token: tokens.ownerA, body: { balance: 1 } }))
        .statusCode,
    ).toBe(422);
    expect((await req('PUT', url, { token: tokens.ownerA, body: { balance: null } })).statusCode).toBe(200);
    expect(await cfg()).toMatchObject({ balance: null });
  });
});
