import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CdrRepository } from '../proxy/cdr-repository.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { createApiFixture, FIXTURE_PASSWORD, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

type Json = Record<string, unknown> & {
  docs?: Array<Record<string, unknown>>;
  error?: { code: string; message: string; fields?: Record<string, string> };
};
const json = (r: { body: string }) => JSON.parse(r.body) as Json;

describe.each(testBackends(pgdb))('/api/v1 on %s', (_name, database) => {
  let f: ApiFixture;
  beforeAll(async () => {
    if (database) f = await createApiFixture(database);
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });

  describe.skipIf(!database)('', () => {
    it('signs in with e-mail and password, and the session token works until logout', async () => {
      const login = await f.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'OwnerA@A.example', password: FIXTURE_PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      const { token, principal } = json(login) as { token: string; principal: Record<string, unknown> };
      expect(token).toMatch(/^hss_/);
      expect(principal).toMatchObject({ role: 'owner', domain: 'a.example', via: 'session' });
      const me = await f.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { token } });
      expect(json(me)).toMatchObject({ email: 'ownera@a.example', role: 'owner' });
      expect(
        (
          await f.app.inject({
            method: 'POST',
            url: '/api/v1/auth/logout',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(204);
      const after = await f.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { token } });
      expect(after.statusCode).toBe(401);
      expect(json(after).error?.code).toBe('UNAUTHENTICATED');
    });

    it('makes an address that guesses an account wait (429), while the owner signs in from its own address', async () => {
      const attempt = (password: string, remoteAddress: string) =>
        f.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'agentb@b.example', password },
          remoteAddress,
        });
      for (let i = 0; i < 4; i++) expect((await attempt(`wrong-${i}`, '203.0.113.9')).statusCode).toBe(401);
      const locked = await attempt(FIXTURE_PASSWORD, '203.0.113.9');
      expect(locked.statusCode).toBe(429);
      expect(json(locked).error?.code).toBe('RATE_LIMITED');
      // Knowing the e-mail is not enough to lock the owner out.
      expect((await attempt(FIXTURE_PASSWORD, '198.51.100.7')).statusCode).toBe(200);
      // Unknown accounts answer like wrong passwords: nothing tells which e-mails exist.
      const unknown = await f.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'nobody@b.example', password: 'x' },
      });
      expect(unknown.statusCode).toBe(401);
      expect(json(unknown).error?.message).toBe('wrong e-mail or password');
    });

    it('answers 401 without a token and with a wrong, oversized or revoked one', async () => {
      expect((await f.call(undefined, 'GET', '/api/v1/users')).statusCode).toBe(401);
      for (const bad of ['hst_nope', 'x'.repeat(5000), 'Bearer', '']) {
        const r = await f.app.inject({
          method: 'GET',
          url: '/api/v1/users',
          headers: { authorization: `Bearer ${bad}` },
        });
        expect(r.statusCode, bad.slice(0, 10)).toBe(401);
      }
      const created = await f.call('ownerA', 'POST', '/api/v1/tokens', { userId: f.ids.agentA, name: 'temp' });
      expect(created.statusCode).toBe(201);
      const { token, record } = json(created) as { token: string; record: { id: string; prefix: string } };
      expect(token.startsWith(record.prefix)).toBe(true);
      const listed = await f.call('ownerA', 'GET', '/api/v1/tokens');
      expect(listed.body).not.toContain(token);
      expect(json(listed).docs?.some((t) => t.id === record.id)).toBe(true);
      expect((await f.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { token } })).statusCode).toBe(200);
      expect((await f.call('ownerA', 'DELETE', `/api/v1/tokens/${record.id}`)).statusCode).toBe(204);
      expect((await f.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { token } })).statusCode).toBe(401);
    });

    it('creates, finds, changes and deletes a user, with 409 for duplicates and 422 naming bad fields', async () => {
      const created = await f.call('adminA', 'POST', '/api/v1/users', {
        ext: '2001',
        extPassword: 'sip-secret',
        email: 'Carol@A.example',
        name: 'Carol Jones',
        phone: '+1 555 0100',
        role: 'agent',
        password: 'carol-password',
      });
      expect(created.statusCode).toBe(201);
      const carol = json(created);
      expect(carol).toMatchObject({
        ext: '2001',
        email: 'carol@a.example',
        domain: 'a.example',
        role: 'agent',
        canSignIn: true,
      });
      expect(created.body).not.toContain('sip-secret');
      expect(created.body).not.toContain('carol-password');

      const dupExt = await f.call('adminA', 'POST', '/api/v1/users', { ext: '2001', extPassword: 'x' });
      expect(dupExt.statusCode).toBe(409);
      expect(json(dupExt).error?.code).toBe('DUPLICATE_EXTENSION');
      const dupEmail = await f.call('adminA', 'POST', '/api/v1/users', {
        ext: '2002',
        extPassword: 'x',
        email: 'carol@a.example',
      });
      expect(dupEmail.statusCode).toBe(409);
      expect(json(dupEmail).error?.code).toBe('DUPLICATE_EMAIL');
      const bad = await f.call('adminA', 'POST', '/api/v1/users', {
        ext: 'no spaces',
        email: 'nope',
        role: 'king',
        extra: 1,
      });
      expect(bad.statusCode).toBe(422);
      expect(Object.keys(json(bad).error?.fields ?? {}).sort()).toEqual([
        'email',
        'ext',
        'extPassword',
        'extra',
        'role',
      ]);

      const search = await f.call('adminA', 'GET', '/api/v1/users?keyword=CAROL&pageSize=10');
      expect(json(search)).toMatchObject({ totalDocs: 1, limit: 10, totalPages: 1, page: 1 });
      expect(json(search).docs?.[0]?.id).toBe(carol.id);

      const patched = await f.call('adminA', 'PATCH', `/api/v1/users/${String(carol.id)}`, {
        name: 'Carol Smith',
        phone: null,
      });
      expect(patched.statusCode).toBe(200);
      expect(json(patched)).toMatchObject({ name: 'Carol Smith' });
      expect(json(patched).phone).toBeUndefined();

      const sip = await f.call('adminA', 'GET', `/api/v1/users/${String(carol.id)}/sip-password`);
      expect(json(sip)).toEqual({ extPassword: 'sip-secret' });

      expect((await f.call('adminA', 'DELETE', `/api/v1/users/${String(carol.id)}`)).statusCode).toBe(204);
      expect((await f.call('adminA', 'GET', `/api/v1/users/${String(carol.id)}`)).statusCode).toBe(404);
    });

    it('pages, sorts and filters the user list', async () => {
      for (let i = 0; i < 5; i++)
        await f.services.users.create(await ownerA(f), f.domainA, {
          ext: `30${i}`,
          extPassword: 'p',
          name: `Pager ${i}`,
          active: i % 2 === 0,
        });
      const page2 = json(
        await f.call('ownerA', 'GET', '/api/v1/users?keyword=pager&pageSize=2&page=2&sort=ext&order=desc'),
      );
      expect(page2).toMatchObject({ totalDocs: 5, limit: 2, totalPages: 3, page: 2 });
      expect(page2.docs?.map((d) => d.ext)).toEqual(['302', '301']);
      const inactive = json(await f.call('ownerA', 'GET', '/api/v1/users?keyword=pager&active=false'));
      expect(inactive.docs?.map((d) => d.ext).sort()).toEqual(['301', '303']);
      const beyond = json(await f.call('ownerA', 'GET', '/api/v1/users?keyword=pager&pageSize=2&page=9'));
      expect(beyond).toMatchObject({ docs: [], totalDocs: 5, page: 9 });
    });

    it('groups share the number space with users and keep members in ring order', async () => {
      const clash = await f.call('ownerA', 'POST', '/api/v1/groups', { name: 'Sales', ext: '100' });
      expect(clash.statusCode).toBe(409);
      const created = await f.call('ownerA', 'POST', '/api/v1/groups', {
        name: 'Sales',
        ext: '600',
        strategy: 'sequential',
        ringTimeoutS: 15,
      });
      expect(created.statusCode).toBe(201);
      const g = json(created) as { id: string };
      const userClash = await f.call('ownerA', 'POST', '/api/v1/users', { ext: '600', extPassword: 'x' });
      expect(userClash.statusCode).toBe(409);
      const members = await f.call('ownerA', 'PUT', `/api/v1/groups/${g.id}/members`, {
        members: [f.ids.agentA, f.ids.adminA],
      });
      expect(json(members).members).toEqual([f.ids.agentA, f.ids.adminA]);
      const foreign = await f.call('ownerA', 'PUT', `/api/v1/groups/${g.id}/members`, { members: [f.ids.agentB] });
      expect(foreign.statusCode).toBe(422);
      expect(json(foreign).error?.fields).toEqual({ 'members.0': 'no such user in this domain' });
      expect(await f.services.groups.resolveGroup('a.example', '600')).toEqual({
        strategy: 'sequential',
        ringTimeoutS: 15,
        members: ['102', '101'],
      });
      const agentView = json(await f.call('agentA', 'GET', `/api/v1/users/${f.ids.agentA}`));
      expect(agentView.group).toBe(g.id);
      expect((await f.call('agentA', 'PATCH', `/api/v1/groups/${g.id}`, { name: 'Mine' })).statusCode).toBe(403);
    });

    it('keeps private contacts private and the domain phonebook shared', async () => {
      const shared = await f.call('adminA', 'POST', '/api/v1/contacts', {
        name: 'Plumber',
        company: 'Pipes Ltd',
        numbers: [{ label: 'work', number: '+44 20 7946 0000' }],
      });
      expect(shared.statusCode).toBe(201);
      const mine = await f.call('agentA', 'POST', '/api/v1/contacts', {
        name: 'Mum',
        numbers: [{ label: 'mobile', number: '0700' }],
        private: true,
      });
      expect(mine.statusCode).toBe(201);
      expect((await f.call('agentA', 'POST', '/api/v1/contacts', { name: 'Shared by agent' })).statusCode).toBe(403);
      const asAgent = json(await f.call('agentA', 'GET', '/api/v1/contacts'));
      expect(asAgent.docs?.map((c) => c.name).sort()).toEqual(['Mum', 'Plumber']);
      const asAdmin = json(await f.call('adminA', 'GET', '/api/v1/contacts?keyword=7946'));
      expect(asAdmin.docs?.map((c) => c.name)).toEqual(['Plumber']);
      const mumId = String(json(mine).id);
      expect((await f.call('adminA', 'GET', `/api/v1/contacts/${mumId}`)).statusCode).toBe(404);
      expect((await f.call('agentA', 'PATCH', `/api/v1/contacts/${mumId}`, { company: 'Family' })).statusCode).toBe(
        200,
      );
    });

    it('searches CDRs by keyword, date and group, limits agents to their own calls, and exports CSV', async () => {
      const repo = new CdrRepository(f.store);
      const base = { durationS: 10, billableS: 5, sipStatus: 200, disposition: 'answered' as const };
      const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min));
      await repo.insert({
        ...base,
        callId: 'c1',
        domain: 'a.example',
        caller: '102@a.example',
        callee: '101@a.example',
        startedAt: at(0),
        endedAt: at(1),
      });
      await repo.insert({
        ...base,
        callId: 'c2',
        domain: 'a.example',
        caller: '100@a.example',
        callee: '=HYPERLINK("x")',
        startedAt: at(10),
        endedAt: at(11),
      });
      await repo.insert({
        ...base,
        callId: 'c3',
        domain: 'b.example',
        caller: '103@b.example',
        callee: '104@b.example',
        startedAt: at(20),
        endedAt: at(21),
      });
      const all = json(await f.call('ownerA', 'GET', '/api/v1/cdrs'));
      expect(all.docs?.map((c) => c.callId)).toEqual(['c2', 'c1']);
      const agent = json(await f.call('agentA', 'GET', '/api/v1/cdrs'));
      expect(agent.docs?.map((c) => c.callId)).toEqual(['c1']);
      const ranged = json(
        await f.call('ownerA', 'GET', `/api/v1/cdrs?from=${at(5).toISOString()}&to=${at(15).toISOString()}`),
      );
      expect(ranged.docs?.map((c) => c.callId)).toEqual(['c2']);
      const kw = json(await f.call('root', 'GET', '/api/v1/cdrs?keyword=104@B'));
      expect(kw.docs?.map((c) => c.callId)).toEqual(['c3']);
      const csv = await f.call('ownerA', 'GET', '/api/v1/cdrs/export.csv');
      expect(csv.headers['content-type']).toContain('text/csv');
      const lines = csv.body.trimEnd().split('\r\n');
      expect(lines[0]).toMatch(/^id,callId,domain,caller,callee,startedAt/);
      expect(lines).toHaveLength(3);
      // A formula-looking cell is defused, so a spreadsheet shows it as text.
      expect(csv.body).toContain(`"'=HYPERLINK(""x"")"`);
      expect(csv.body).not.toContain('b.example');
    });

    it('validates settings with their schema and lets only the owner change them', async () => {
      f.services.settingsRegistry.define('test.qr_expiration', {
        schema: z.number().int().min(60).max(2_592_000),
        default: 172_800,
        description: 'QR validity (s)',
        scope: 'domain',
      });
      expect(await f.services.settings.get('test.qr_expiration', f.domainA)).toBe(172_800);
      expect((await f.call('adminA', 'PUT', '/api/v1/settings/test.qr_expiration', { value: 600 })).statusCode).toBe(
        403,
      );
      const bad = await f.call('ownerA', 'PUT', '/api/v1/settings/test.qr_expiration', { value: 'soon' });
      expect(bad.statusCode).toBe(422);
      expect(Object.keys(json(bad).error?.fields ?? {})).toEqual(['test.qr_expiration']);
      expect((await f.call('ownerA', 'PUT', '/api/v1/settings/no.such_key', { value: 1 })).statusCode).toBe(404);
      const ok = await f.call('ownerA', 'PUT', '/api/v1/settings/test.qr_expiration', { value: 600 });
      expect(json(ok)).toMatchObject({ value: 600, source: 'domain' });
      expect(await f.services.settings.get('test.qr_expiration', f.domainA)).toBe(600);
      expect(await f.services.settings.get('test.qr_expiration', f.domainB)).toBe(172_800);
      expect(
        (await f.call('ownerB', 'PUT', '/api/v1/settings/test.qr_expiration', { value: 900, domainId: f.domainA }))
          .statusCode,
      ).toBe(404);
    });

    it('records changes in the audit log, visible to the owner of that domain only', async () => {
      await f.call('ownerA', 'PATCH', `/api/v1/users/${f.ids.agentA}`, { desc: 'audited' });
      const log = json(await f.call('ownerA', 'GET', '/api/v1/audit?resource=user'));
      expect(log.docs?.[0]).toMatchObject({
        action: 'update',
        resource: 'user',
        resourceId: f.ids.agentA,
        actorEmail: 'ownera@a.example',
        via: 'token',
      });
      expect((await f.call('adminA', 'GET', '/api/v1/audit')).statusCode).toBe(403);
      const other = json(await f.call('ownerB', 'GET', '/api/v1/audit?keyword=' + f.ids.agentA));
      expect(other.docs).toEqual([]);
    });

    it('resets a password by mail, and the new one signs in', async () => {
      const r = await f.call('ownerA', 'POST', `/api/v1/users/${f.ids.adminA}/password-reset`);
      expect(json(r)).toEqual({ mailedTo: 'admina@a.example' });
      const mail = f.mail.at(-1)!;
      expect(mail.to).toBe('admina@a.example');
      const password = /\n\n(\S+)\n\n/.exec(mail.text)?.[1];
      const login = await f.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'admina@a.example', password },
      });
      expect(login.statusCode).toBe(200);
      expect((await f.call('adminA', 'POST', `/api/v1/users/${f.ids.ownerA}/password-reset`)).statusCode).toBe(403);
    });

    it('publishes an OpenAPI 3.1 document built from the same schemas, and browsable docs', async () => {
      const doc = json(await f.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })) as {
        openapi: string;
        paths: Record<string, Record<string, { requestBody?: unknown }>>;
      };
      expect(doc.openapi).toBe('3.1.0');
      for (const p of [
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/groups/{id}/members',
        '/api/v1/cdrs/export.csv',
        '/client-api/user',
      ])
        expect(Object.keys(doc.paths)).toContain(p);
      expect(JSON.stringify(doc.paths['/api/v1/users']?.post?.requestBody)).toContain('extPassword');
      const ui = await f.app.inject({ method: 'GET', url: '/api/docs/' });
      expect(ui.statusCode).toBe(200);
      expect(ui.body).toContain('swagger');
    });
  });
});

async function ownerA(f: ApiFixture) {
  return (await f.services.tokens.resolve(f.tokens.ownerA))!;
}
