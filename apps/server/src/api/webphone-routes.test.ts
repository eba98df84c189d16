import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { registerWebphoneStatic } from './webphone-routes.js';
import { webphoneTestApp } from './webphone-test-app.js';
import { codecMatches, defineWebphoneSettings } from './webphone-settings.js';

/** The parts of GET /api/v1/webphone/config these tests read. */
interface Config {
  user: { id: string };
  sip: Record<string, string>;
  wsUrl: string;
  iceServers: Array<{ urls: string[]; username?: string }>;
  config: {
    brandName: string;
    flags: Record<string, boolean>;
    codecs: { delete: string[]; priority: string[] };
    menuItems: Array<Record<string, unknown>>;
  };
  build: { uuid: string };
}

type Actor = 'root' | 'ownerA' | 'agentA' | 'agentA2' | 'agentB';
const PASSWORD = 'correct horse battery';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

describe('codecMatches', () => {
  it('matches names case-insensitively and /regex/ patterns', () => {
    expect(codecMatches('pcmu', 'PCMU')).toBe(true);
    expect(codecMatches('/^G72/', 'G722')).toBe(true);
    expect(codecMatches('/^G72/', 'opus')).toBe(false);
    expect(codecMatches('PCMA', 'PCMU')).toBe(false);
  });
});

describe.each(testBackends(pgdb))('/api/v1/webphone on %s', (_name, database) => {
  let store: Store;
  let services: DirectoryServices;
  let app: FastifyInstance;
  let dist: string;
  const tokens = {} as Record<Actor, string>;
  let domainA: string;

  const get = (actor: Actor | undefined, url: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'GET',
      url,
      headers: { ...(actor ? { authorization: `Bearer ${tokens[actor]}` } : {}), ...headers },
    });
  const put = (actor: Actor, key: string, value: unknown) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/settings/${key}`,
      headers: { authorization: `Bearer ${tokens[actor]}` },
      payload: { value },
    });

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    services = createDirectoryServices(store, new SecretBox(randomBytes(32)));
    defineWebphoneSettings(services.settingsRegistry);
    dist = await mkdtemp(join(tmpdir(), 'webphone-dist-'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>Handset</title>');
    await writeFile(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});');
    app = await webphoneTestApp({
      services,
      iceServersFor: (u) => [
        { urls: ['stun:stun.example.test'] },
        { urls: ['turn:t.example.test'], username: `1:${u}`, credential: 'c' },
      ],
    });
    await registerWebphoneStatic(app, { root: dist });
    await app.ready();

    const root = CLI_PRINCIPAL;
    domainA = (await services.domains.create(root, { domain: 'a.example' })).id;
    const domainB = (await services.domains.create(root, { domain: 'b.example' })).id;
    const sa = await services.sessions.createSuperadmin(root, { email: 'root@ops.example', password: PASSWORD });
    tokens.root = (await services.tokens.create(root, sa.id, 't')).token;
    let ext = 100;
    for (const [actor, domainId, role] of [
      ['ownerA', domainA, 'owner'],
      ['agentA', domainA, 'agent'],
      ['agentA2', domainA, 'agent'],
      ['agentB', domainB, 'agent'],
    ] as const) {
      const u = await services.users.create(root, domainId, {
        ext: String(ext++),
        extPassword: `sip-${actor}-secret`,
        email: `${actor.toLowerCase()}@example.org`,
        name: `Name ${actor}`,
        password: PASSWORD,
        role,
      });
      tokens[actor] = (await services.tokens.create(root, u.id, 't')).token;
    }
    // The web phone signs in with a session, as a user does.
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'agenta@example.org', password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    tokens.agentA = login.json<{ token: string }>().token;
    // Migrations and six password hashes; slow on a loaded 2-core machine.
  }, 120_000);
  afterAll(async () => {
    if (!database) return;
    await app.close();
    await store.close();
    await rm(dist, { recursive: true, force: true });
  });

  it.skipIf(!database)(
    'hands a signed-in agent its own SIP line, WS URL from the page host, ICE and defaults',
    async () => {
      const res = await get('agentA', '/api/v1/webphone/config', { host: 'pbx.example.org:8080' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json<Config>();
      expect(body.sip).toEqual({
        uri: 'sip:101@a.example',
        username: '101',
        domain: 'a.example',
        password: 'sip-agentA-secret',
        displayName: 'Name agentA',
      });
      expect(body.wsUrl).toBe('ws://pbx.example.org:8080/sip');
      expect(body.iceServers[1]).toMatchObject({ urls: ['turn:t.example.test'], username: `1:${body.user.id}` });
      expect(body.config.brandName).toBe('Handset');
      expect(body.config.flags).toMatchObject({ editSettings: false, autoAnswer: false, hideUuid: false });
      expect(body.build.uuid).toBe('0.1.0+abc123');
    },
  );

  it.skipIf(!database)('applies the domain configuration an owner stores, only to that domain', async () => {
    for (const [k, v] of [
      ['webphone.brand_name', 'Acme Phone'],
      ['webphone.ws_url', 'wss://sip.acme.example/ws'],
      ['webphone.auto_answer', true],
      ['webphone.codec_delete', ['PCMA', '/^G72/']],
      ['webphone.codec_priority', ['PCMU', 'opus']],
      ['webphone.custom_css', 'body { --accent: #c00; }'],
      ['webphone.menu_items', [{ page: 'iframe', title: 'Wiki', url: 'https://wiki.acme.example/' }]],
    ] as const) {
      const r = await put('ownerA', k, v);
      expect(r.statusCode, `${k}: ${r.body}`).toBe(200);
    }
    const a = (await get('agentA', '/api/v1/webphone/config')).json<Config>();
    expect(a.config.brandName).toBe('Acme Phone');
    expect(a.wsUrl).toBe('wss://sip.acme.example/ws');
    expect(a.config.flags.autoAnswer).toBe(true);
    expect(a.config.codecs).toEqual({ delete: ['PCMA', '/^G72/'], priority: ['PCMU', 'opus'] });
    expect(a.config.menuItems[0]).toMatchObject({ page: 'iframe', url: 'https://wiki.acme.example/' });
    const b = (await get('agentB', '/api/v1/webphone/config')).json<Config>();
    expect(b.config.brandName).toBe('Handset');
    expect(b.sip.domain).toBe('b.example');
    expect(b.sip.password).toBe('sip-agentB-secret');
  });

  it.skipIf(!database)(
    'refuses bad web phone settings with 4xx: Opus deleted, bad regex, markup in CSS, junk',
    async () => {
      for (const [k, v] of [
        ['webphone.codec_delete', ['opus']],
        ['webphone.codec_delete', ['/OP.S/']],
        ['webphone.codec_delete', ['/(/']],
        ['webphone.custom_css', '</style><script>alert(1)</script>'],
        ['webphone.ws_url', 'http://not-a-websocket.example'],
        ['webphone.menu_items', [{ page: 'iframe', url: 'javascript:alert(1)' }]],
        ['webphone.menu_items', [{ page: 'nope' }]],
        ['webphone.auto_answer', 'yes'],
        ['webphone.brand_name', 'x'.repeat(61)],
      ] as const) {
        const r = await put('ownerA', k, v);
        expect(r.statusCode, `${k} = ${JSON.stringify(v)}`).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
      }
      expect((await put('agentA', 'webphone.brand_name', 'Mine')).statusCode).toBe(403);
    },
  );

  it.skipIf(!database)('restricts sign-in to listed users', async () => {
    expect((await put('ownerA', 'webphone.allowed_users', ['agenta2@example.org'])).statusCode).toBe(200);
    const refused = await get('agentA', '/api/v1/webphone/config');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(refused.body).not.toContain('sip-agentA-secret');
    expect((await get('agentA2', '/api/v1/webphone/config')).statusCode).toBe(200);
    expect((await put('ownerA', 'webphone.allowed_users', [])).statusCode).toBe(200);
    expect((await get('agentA', '/api/v1/webphone/config')).statusCode).toBe(200);
  });

  it.skipIf(!database)('answers 401 without or with a junk token, 403 for a superadmin without a line', async () => {
    expect((await get(undefined, '/api/v1/webphone/config')).statusCode).toBe(401);
    for (const h of ['Bearer hss_nope', 'Bearer ' + 'x'.repeat(5000), 'Basic Zm9vOmJhcg==', '\u0000']) {
      const r = await app.inject({ url: '/api/v1/webphone/config', headers: { authorization: h } });
      expect(r.statusCode, h.slice(0, 20)).toBe(401);
    }
    expect((await get('root', '/api/v1/webphone/config')).statusCode).toBe(403);
    expect((await get('root', '/api/v1/webphone/colleagues')).statusCode).toBe(403);
  });

  it.skipIf(!database)("lists the caller's colleagues by extension and name, never another tenant's", async () => {
    const res = await get('agentA', '/api/v1/webphone/colleagues');
    expect(res.statusCode).toBe(200);
    const docs = res.json<{ docs: Array<{ ext: string; name?: string }> }>().docs;
    expect(docs.map((d) => d.ext).sort()).toEqual(['100', '102']);
    expect(JSON.stringify(docs)).not.toContain('secret');
    const b = res.json<{ docs: unknown[] }>();
    expect(JSON.stringify(b)).not.toContain('agentb');
    const kw = await get('agentA', '/api/v1/webphone/colleagues?keyword=agentA2');
    expect(kw.json<{ docs: Array<{ ext: string }> }>().docs.map((d) => d.ext)).toEqual(['102']);
    const long = await get('agentA', `/api/v1/webphone/colleagues?keyword=${'k'.repeat(500)}`);
    expect(long.statusCode).toBe(422);
  });

  it.skipIf(!database)('serves the PWA at / with a fallback for app routes, never over server paths', async () => {
    const index = await app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('<title>Handset</title>');
    expect((await app.inject({ url: '/contacts' })).body).toContain('<title>Handset</title>');
    const sw = await app.inject({ url: '/sw.js' });
    expect(sw.statusCode).toBe(200);
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect((await app.inject({ url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
    for (const path of ['/api/v1/nope', '/client-api/x', '/sip', '/metrics/x', '/app/x', '/missing.js']) {
      const r = await app.inject({ url: path });
      expect(r.statusCode, path).toBe(404);
      expect(r.body).not.toContain('<title>Handset</title>');
    }
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) {
      const r = await app.inject({ url: path });
      expect(r.body, path).not.toMatch(/root:.*:0:0:/);
    }
    expect((await app.inject({ url: '/api/v1/webphone/config' })).statusCode).toBe(401);
  });
});
