import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { createApiFixture, type Actor, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const ACTORS: Actor[] = ['root', 'ownerA', 'adminA', 'agentA', 'ownerB', 'adminB', 'agentB'];

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** One request against tenant A's data, and the status each actor must get (`B` = every B actor). */
interface Case {
  name: string;
  method: Method;
  url: (t: Targets) => string;
  body?: (t: Targets, actor: Actor) => unknown;
  expect: Partial<Record<Actor | 'B', number>>;
}

interface Targets {
  domainA: string;
  user: string;
  group: string;
  shared: string;
  private: string;
  token: string;
}

let ext = 5000;
const CASES: Case[] = [
  {
    name: 'get a user',
    method: 'GET',
    url: (t) => `/api/v1/users/${t.user}`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 404, B: 404 },
  },
  {
    name: 'change a user',
    method: 'PATCH',
    url: (t) => `/api/v1/users/${t.user}`,
    body: () => ({ desc: 'changed' }),
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 404, B: 404 },
  },
  {
    name: 'make a user owner',
    method: 'PATCH',
    url: (t) => `/api/v1/users/${t.user}`,
    body: () => ({ role: 'owner' }),
    expect: { adminA: 403, agentA: 404, B: 404 },
  },
  {
    name: "read a user's SIP password",
    method: 'GET',
    url: (t) => `/api/v1/users/${t.user}/sip-password`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 404, B: 404 },
  },
  {
    name: "reset a user's password",
    method: 'POST',
    url: (t) => `/api/v1/users/${t.user}/password-reset`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 404, B: 404 },
  },
  {
    name: 'create a user in A',
    method: 'POST',
    url: () => '/api/v1/users',
    body: (t) => ({ domainId: t.domainA, ext: String(ext++), extPassword: 'pw' }),
    expect: { root: 201, ownerA: 201, adminA: 201, agentA: 403, B: 404 },
  },
  { name: 'delete a user', method: 'DELETE', url: (t) => `/api/v1/users/${t.user}`, expect: { agentA: 404, B: 404 } },
  {
    name: 'get a group',
    method: 'GET',
    url: (t) => `/api/v1/groups/${t.group}`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 200, B: 404 },
  },
  {
    name: 'change a group',
    method: 'PATCH',
    url: (t) => `/api/v1/groups/${t.group}`,
    body: () => ({ desc: 'changed' }),
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 403, B: 404 },
  },
  {
    name: 'set group members',
    method: 'PUT',
    url: (t) => `/api/v1/groups/${t.group}/members`,
    body: (t) => ({ members: [t.user] }),
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 403, B: 404 },
  },
  {
    name: 'create a group in A',
    method: 'POST',
    url: () => '/api/v1/groups',
    body: (t) => ({ domainId: t.domainA, name: 'g', ext: String(ext++) }),
    expect: { root: 201, ownerA: 201, adminA: 201, agentA: 403, B: 404 },
  },
  {
    name: 'delete a group',
    method: 'DELETE',
    url: (t) => `/api/v1/groups/${t.group}`,
    expect: { agentA: 403, B: 404 },
  },
  {
    name: 'get a shared contact',
    method: 'GET',
    url: (t) => `/api/v1/contacts/${t.shared}`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 200, B: 404 },
  },
  {
    name: 'change a shared contact',
    method: 'PATCH',
    url: (t) => `/api/v1/contacts/${t.shared}`,
    body: () => ({ company: 'x' }),
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 403, B: 404 },
  },
  {
    name: "get agentA's private contact",
    method: 'GET',
    url: (t) => `/api/v1/contacts/${t.private}`,
    expect: { root: 200, ownerA: 404, adminA: 404, agentA: 200, B: 404 },
  },
  {
    name: "delete agentA's private contact",
    method: 'DELETE',
    url: (t) => `/api/v1/contacts/${t.private}`,
    expect: { ownerA: 404, adminA: 404, B: 404 },
  },
  {
    name: 'get domain A',
    method: 'GET',
    url: (t) => `/api/v1/domains/${t.domainA}`,
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 200, B: 404 },
  },
  {
    name: 'rename domain A',
    method: 'PATCH',
    url: (t) => `/api/v1/domains/${t.domainA}`,
    body: () => ({ name: 'A again' }),
    expect: { root: 200, ownerA: 200, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'deactivate domain A',
    method: 'PATCH',
    url: (t) => `/api/v1/domains/${t.domainA}`,
    body: () => ({ active: true }),
    expect: { root: 200, ownerA: 403, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'delete domain A',
    method: 'DELETE',
    url: (t) => `/api/v1/domains/${t.domainA}`,
    expect: { ownerA: 403, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'create a domain',
    method: 'POST',
    url: () => '/api/v1/domains',
    body: () => ({ domain: `x${ext++}.example` }),
    expect: { root: 201, ownerA: 403, adminA: 403, agentA: 403, ownerB: 403, adminB: 403, agentB: 403 },
  },
  {
    name: "list domain A's settings",
    method: 'GET',
    url: (t) => `/api/v1/settings?domainId=${t.domainA}`,
    expect: { root: 200, ownerA: 200, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'change a setting of domain A',
    method: 'PUT',
    url: () => '/api/v1/settings/rights.flag',
    body: (t) => ({ value: true, domainId: t.domainA }),
    expect: { root: 200, ownerA: 200, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'change a server-wide setting',
    method: 'PUT',
    url: () => '/api/v1/settings/rights.flag',
    body: () => ({ value: true, domainId: undefined }),
    expect: { root: 200 },
  },
  {
    name: 'create a token for a user of A',
    method: 'POST',
    url: () => '/api/v1/tokens',
    body: (t) => ({ userId: t.user, name: 'x' }),
    expect: { root: 201, ownerA: 201, adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'revoke a token of A',
    method: 'DELETE',
    url: (t) => `/api/v1/tokens/${t.token}`,
    expect: { adminA: 403, agentA: 403, B: 404 },
  },
  {
    name: 'list tokens',
    method: 'GET',
    url: () => '/api/v1/tokens',
    expect: { root: 200, ownerA: 200, adminA: 403, agentA: 403, ownerB: 200, adminB: 403, agentB: 403 },
  },
  {
    name: 'read the audit log',
    method: 'GET',
    url: () => '/api/v1/audit',
    expect: { root: 200, ownerA: 200, adminA: 403, agentA: 403, ownerB: 200, adminB: 403, agentB: 403 },
  },
  {
    name: 'Phonenet: change a user of A',
    method: 'PUT',
    url: (t) => `/client-api/user/${t.user}`,
    body: () => ({ desc: 'x' }),
    expect: { root: 200, ownerA: 200, adminA: 200, agentA: 404, B: 404 },
  },
  {
    name: 'Phonenet: delete a group of A',
    method: 'DELETE',
    url: (t) => `/client-api/user-group/${t.group}`,
    expect: { agentA: 403, B: 404 },
  },
];

/** Lists every actor may call; none may show another tenant's records. */
const LISTS = [
  '/api/v1/users?pageSize=1000',
  '/api/v1/groups?pageSize=1000',
  '/api/v1/contacts?pageSize=1000',
  '/api/v1/domains',
  '/api/v1/cdrs?pageSize=1000',
  '/client-api/user?page=1&pageSize=1000',
  '/client-api/user-group?page=1&pageSize=1000',
  '/client-api/cdr?page=1&pageSize=1000',
];

describe.each(testBackends(pgdb))('rights across tenants and roles on %s', (_name, database) => {
  let f: ApiFixture;
  let t: Targets;
  beforeAll(async () => {
    if (!database) return;
    f = await createApiFixture(database);
    const root = CLI_PRINCIPAL;
    f.services.settingsRegistry.define('rights.flag', {
      schema: (await import('zod')).z.boolean(),
      default: false,
      description: 'test',
      scope: 'domain',
    });
    const user = await f.services.users.create(root, f.domainA, {
      ext: '4000',
      extPassword: 'target-sip',
      email: 'target@a.example',
    });
    const group = await f.services.groups.create(root, f.domainA, { name: 'Target', ext: '4100' });
    const shared = await f.services.contacts.create(root, f.domainA, { name: 'Shared A' });
    const agentA = (await f.services.tokens.resolve(f.tokens.agentA))!;
    const priv = await f.services.contacts.create(agentA, f.domainA, { name: 'Private A', private: true });
    const token = await f.services.tokens.create(root, user.id, 'target');
    t = {
      domainA: f.domainA,
      user: user.id,
      group: group.id,
      shared: shared.id,
      private: priv.id,
      token: token.record.id,
    };
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });

  it.skipIf(!database)('every resource answers each role as the rights say, and B never reaches A', async () => {
    const failures: string[] = [];
    for (const c of CASES) {
      for (const actor of ACTORS) {
        const want = c.expect[actor] ?? (actor.endsWith('B') ? c.expect.B : undefined);
        if (want === undefined) continue;
        const res = await f.call(actor, c.method, c.url(t), c.body?.(t, actor));
        if (res.statusCode !== want)
          failures.push(`${c.name} as ${actor}: ${res.statusCode} (wanted ${want}) ${res.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it.skipIf(!database)("no list shows a B actor anything of A, nor an agent other users' secrets", async () => {
    const aSecrets = [f.domainA, t.user, t.group, t.shared, t.private, 'target@a.example', 'target-sip', 'a.example'];
    for (const actor of ['ownerB', 'adminB', 'agentB'] as const) {
      for (const url of LISTS) {
        const res = await f.call(
          actor,
          'GET',
          `${url}&domainId=${f.domainA}`.replace('?&', '?').replace(/^([^?]*)&/, '$1?'),
        );
        expect(res.statusCode, `${actor} ${url}`).toBe(200);
        for (const s of aSecrets) expect(res.body, `${actor} ${url} leaks ${s}`).not.toContain(s);
      }
    }
    const agentUsers = JSON.parse((await f.call('agentA', 'GET', '/api/v1/users')).body) as {
      docs: Array<{ id: string }>;
    };
    expect(agentUsers.docs.map((d) => d.id)).toEqual([f.ids.agentA]);
    const agentCompat = (await f.call('agentA', 'GET', '/client-api/user?page=1&pageSize=100')).body;
    expect(agentCompat).not.toContain('target-sip');
    expect(agentCompat).toContain('sip-agentA');
  });

  it.skipIf(!database)(
    'an agent sees the ring groups by name and extension, and among their members only itself',
    async () => {
      const root = CLI_PRINCIPAL;
      await f.services.groups.setMembers(root, t.group, [t.user, f.ids.agentA]);
      type Groups = { docs: Array<{ id: string; ext: string; name: string; members: string[] }> };
      const asAgent = JSON.parse((await f.call('agentA', 'GET', '/api/v1/groups')).body) as Groups;
      const target = asAgent.docs.find((g) => g.id === t.group);
      expect(target).toMatchObject({ ext: '4100', name: 'Target', members: [f.ids.agentA] });
      const one = JSON.parse((await f.call('agentA', 'GET', `/api/v1/groups/${t.group}`)).body) as Groups['docs'][0];
      expect(one.members).toEqual([f.ids.agentA]);
      const compat = (await f.call('agentA', 'GET', '/client-api/user-group?page=1&pageSize=100')).body;
      expect(compat).not.toContain(t.user);
      // Managers see every member, in ring order.
      const asAdmin = JSON.parse(
        (await f.call('adminA', 'GET', `/api/v1/groups/${t.group}`)).body,
      ) as Groups['docs'][0];
      expect(asAdmin.members).toEqual([t.user, f.ids.agentA]);
      await f.services.groups.setMembers(root, t.group, []);
    },
  );

  it.skipIf(!database)(
    'an allowed delete works after all the refused ones, and a revoked token stops working',
    async () => {
      expect((await f.call('ownerA', 'DELETE', `/api/v1/tokens/${t.token}`)).statusCode).toBe(204);
      expect((await f.call('agentA', 'DELETE', `/api/v1/contacts/${t.private}`)).statusCode).toBe(204);
      expect((await f.call('adminA', 'DELETE', `/api/v1/groups/${t.group}`)).statusCode).toBe(204);
      expect((await f.call('adminA', 'DELETE', `/api/v1/users/${t.user}`)).statusCode).toBe(204);
      expect((await f.call('adminA', 'DELETE', `/api/v1/users/${f.ids.ownerA}`)).statusCode).toBe(403);
      expect((await f.call('ownerA', 'DELETE', `/api/v1/users/${f.ids.ownerA}`)).statusCode).toBe(409);
    },
  );
});
