import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { createApiFixture, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };

describe.each(testBackends(pgdb))('hostile input to the API on %s', (_name, database) => {
  let f: ApiFixture;
  beforeAll(async () => {
    if (database) f = await createApiFixture(database);
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });

  const raw = (
    url: string,
    payload: string | Buffer,
    contentType = 'application/json',
    method: 'POST' | 'PUT' = 'POST',
  ) =>
    f.app.inject({
      method,
      url,
      payload,
      headers: { authorization: `Bearer ${f.tokens.ownerA}`, 'content-type': contentType },
    });
  const userCount = async () =>
    (await f.services.users.list((await f.services.tokens.resolve(f.tokens.root))!, {})).totalDocs;

  describe.skipIf(!database)('', () => {
    it('answers every malformed request with its 4xx and the JSON error shape, and writes nothing', async () => {
      const before = await userCount();
      const cases: Array<[string, () => Promise<{ statusCode: number; body: string }>, number]> = [
        [
          'wrong types',
          () => f.call('ownerA', 'POST', '/api/v1/users', { ext: 1001, extPassword: true, active: 'yes' }),
          422,
        ],
        ['missing fields', () => f.call('ownerA', 'POST', '/api/v1/users', {}), 422],
        [
          'unknown fields',
          () => f.call('ownerA', 'POST', '/api/v1/users', { ext: '9001', extPassword: 'x', isAdmin: true }),
          422,
        ],
        ['an array body', () => f.call('ownerA', 'POST', '/api/v1/users', [1, 2]), 422],
        [
          'SQL in the extension',
          () => f.call('ownerA', 'POST', '/api/v1/users', { ext: "1'; drop table users; --", extPassword: 'x' }),
          422,
        ],
        [
          'HTML in the e-mail',
          () =>
            f.call('ownerA', 'POST', '/api/v1/users', { ext: '9002', extPassword: 'x', email: '<script>@x.example' }),
          422,
        ],
        [
          'control characters in a name',
          () => f.call('ownerA', 'POST', '/api/v1/users', { ext: '9003', extPassword: 'x', name: 'a\u0000b' }),
          422,
        ],
        ['a lone surrogate', () => raw('/api/v1/users', '{"ext":"9004","extPassword":"x","name":"\\ud800"}'), 422],
        [
          'invalid UTF-8',
          () =>
            raw('/api/v1/users', Buffer.from([0x7b, 0x22, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
          400,
        ],
        ['malformed JSON', () => raw('/api/v1/users', '{"ext": "9005",'), 400],
        [
          'a huge body',
          () => raw('/api/v1/users', JSON.stringify({ ext: '9006', extPassword: 'x', desc: 'x'.repeat(400_000) })),
          413,
        ],
        [
          'a too long field',
          () => f.call('ownerA', 'POST', '/api/v1/users', { ext: '9007', extPassword: 'x', desc: 'x'.repeat(1001) }),
          422,
        ],
        ['a wrong content type', () => raw('/api/v1/users', 'ext=9008', 'text/plain'), 415],
        ['page=-1', () => f.call('ownerA', 'GET', '/api/v1/users?page=-1'), 422],
        ['page=abc', () => f.call('ownerA', 'GET', '/api/v1/users?page=abc'), 422],
        ['pageSize over 1000', () => f.call('ownerA', 'GET', '/api/v1/users?pageSize=1001'), 422],
        ['an unknown sort', () => f.call('ownerA', 'GET', '/api/v1/users?sort=password'), 422],
        ['a bad date', () => f.call('ownerA', 'GET', '/api/v1/cdrs?from=yesterday'), 422],
        ['SQL as an id', () => f.call('ownerA', 'GET', `/api/v1/users/${encodeURIComponent("1' or '1'='1")}`), 404],
        ['a non-UUID domainId', () => f.call('ownerA', 'GET', '/api/v1/users?domainId=1%20or%201=1'), 422],
        [
          'members not a list',
          () => f.call('ownerA', 'PUT', `/api/v1/groups/${f.ids.agentA}/members`, { members: 'all' }),
          422,
        ],
        ['Phonenet: ext not a number', () => f.call('ownerA', 'POST', '/client-api/user', { ext: { $gt: 1 } }), 422],
        ['Phonenet: no page', () => f.call('ownerA', 'GET', '/client-api/user'), 422],
        ['an unknown route', () => f.call('ownerA', 'GET', '/api/v1/passwords'), 404],
        ['NUL in a keyword', () => f.call('ownerA', 'GET', '/api/v1/users?keyword=a%00b'), 422],
        [
          'NUL in a Phonenet keyword',
          () => f.call('ownerA', 'GET', '/client-api/cdr?page=1&pageSize=1&keyword=%00'),
          422,
        ],
        ['NUL in an audit filter', () => f.call('ownerA', 'GET', '/api/v1/audit?resource=%00'), 422],
        ['a group filter that is no id', () => f.call('ownerA', 'GET', '/api/v1/users?group=abc'), 200],
        [
          'NUL in a sign-in e-mail',
          () => f.call(undefined, 'POST', '/api/v1/auth/login', { email: 'a\u0000@b.example', password: 'x' }),
          422,
        ],
        [
          'a huge sign-in password',
          () => f.call(undefined, 'POST', '/api/v1/auth/login', { email: 'a@b.example', password: 'x'.repeat(300) }),
          422,
        ],
      ];
      for (const [what, send, status] of cases) {
        const res = await send();
        expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(status);
        if (status === 200) continue;
        const body = JSON.parse(res.body) as ErrorBody;
        expect(typeof body.error.code, what).toBe('string');
        expect(body.error.message.length, what).toBeGreaterThan(0);
        expect(res.body, what).not.toMatch(/at \S+ \(|node_modules/);
      }
      expect(await userCount()).toBe(before);
    });

    it('names each bad field in a 422', async () => {
      const res = await f.call('ownerA', 'POST', '/api/v1/users', {
        ext: 'a b',
        extPassword: '',
        role: 'god',
        phone: 'call me',
      });
      expect(res.statusCode).toBe(422);
      expect(Object.keys((JSON.parse(res.body) as ErrorBody).error.fields ?? {}).sort()).toEqual([
        'ext',
        'extPassword',
        'phone',
        'role',
      ]);
    });

    it('stores SQL and HTML in free text verbatim, and a keyword with LIKE wildcards matches literally', async () => {
      const name = `Robert'); DROP TABLE users; -- <img src=x onerror=alert(1)>`;
      const res = await f.call('ownerA', 'POST', '/api/v1/users', { ext: '9100', extPassword: 'x', name });
      expect(res.statusCode).toBe(201);
      expect(res.headers['content-type']).toContain('application/json');
      expect((JSON.parse(res.body) as { name: string }).name).toBe(name);
      const found = JSON.parse(
        (await f.call('ownerA', 'GET', `/api/v1/users?keyword=${encodeURIComponent("'); DROP")}`)).body,
      ) as {
        totalDocs: number;
      };
      expect(found.totalDocs).toBe(1);
      const wildcard = JSON.parse((await f.call('ownerA', 'GET', '/api/v1/users?keyword=%25')).body) as {
        totalDocs: number;
      };
      expect(wildcard.totalDocs).toBe(0);
    });
  });
});
