import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { createApiFixture, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

describe.each(testBackends(pgdb))('Phonenet Client API on %s', (_name, database) => {
  let f: ApiFixture;
  beforeAll(async () => {
    if (database) f = await createApiFixture(database);
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });
  const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    f.app.inject({
      method,
      url,
      headers: { token: f.tokens.ownerA },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  describe.skipIf(!database)('', () => {
    it('creates a user from the seed example and lists it in the seed shape', async () => {
      const created = await send('POST', '/client-api/user', {
        email: 'phugt@gadget.com.vn',
        name: 'Phú',
        ext: 10000,
        extPassword: 'matkhau123',
        password: 'jnfdjgfdhgryt',
        phone: '0977805845',
        role: 'owner',
      });
      expect(created.statusCode).toBe(200);
      expect(created.body).toBe('true');
      const list = await send('GET', '/client-api/user?page=1&pageSize=100&keyword=phu');
      expect(list.statusCode).toBe(200);
      const body = JSON.parse(list.body) as {
        docs: Array<Record<string, unknown>>;
        totalDocs: number;
        limit: number;
        totalPages: number;
        page: number;
      };
      expect(body).toMatchObject({ totalDocs: 1, limit: 100, totalPages: 1, page: 1 });
      const doc = body.docs[0]!;
      expect(doc).toMatchObject({
        active: true,
        role: 'owner',
        email: 'phugt@gadget.com.vn',
        extPassword: 'matkhau123',
        name: 'Phú',
        phone: '0977805845',
        ext: 10000,
      });
      expect(typeof doc._id).toBe('string');
      expect(typeof doc.createTime).toBe('number');
      expect(Math.abs((doc.createTime as number) - Date.now())).toBeLessThan(60_000);
      expect(doc).not.toHaveProperty('password');
    });

    it('updates, resets the password of, and deletes a user, answering true', async () => {
      const id = (
        JSON.parse((await send('GET', '/client-api/user?page=1&pageSize=1&keyword=phugt')).body) as {
          docs: Array<{ _id: string }>;
        }
      ).docs[0]!._id;
      expect(
        (await send('PUT', `/client-api/user/${id}`, { name: 'Phu Gia', phone: 977805845, active: false })).body,
      ).toBe('true');
      const after = await f.services.users.get((await f.services.tokens.resolve(f.tokens.ownerA))!, id);
      expect(after).toMatchObject({ name: 'Phu Gia', phone: '977805845', active: false });
      const reset = await send('DELETE', `/client-api/user/${id}/password`);
      expect(reset.body).toBe('true');
      expect(f.mail.at(-1)?.to).toBe('phugt@gadget.com.vn');
      expect((await send('DELETE', `/client-api/user/${id}`)).body).toBe('true');
      expect((await send('DELETE', `/client-api/user/${id}`)).statusCode).toBe(404);
    });

    it('answers 422 with the detail for invalid input, and 401 without the token header', async () => {
      const bad = await send('POST', '/client-api/user', {
        email: 'x@y.example',
        name: 'X',
        ext: 'ab cd',
        extPassword: 'p',
        password: 'long enough pw',
        phone: '1',
        role: 'agent',
      });
      expect(bad.statusCode).toBe(422);
      const detail = JSON.parse(bad.body) as { error: { code: string; fields: Record<string, string> } };
      expect(detail.error.code).toBe('VALIDATION');
      expect(Object.keys(detail.error.fields)).toEqual(['ext']);
      const missing = await send('POST', '/client-api/user', { name: 'X' });
      expect(missing.statusCode).toBe(422);
      const anonymous = await f.app.inject({ method: 'GET', url: '/client-api/user?page=1&pageSize=10' });
      expect(anonymous.statusCode).toBe(401);
    });

    it('manages user groups and filters CDRs by group', async () => {
      expect(
        (await send('POST', '/client-api/user-group', { name: 'Support', ext: 20000, desc: 'first line' })).body,
      ).toBe('true');
      const groups = JSON.parse(
        (await send('GET', '/client-api/user-group?page=1&pageSize=10&keyword=support')).body,
      ) as {
        docs: Array<Record<string, unknown>>;
      };
      expect(groups.docs[0]).toMatchObject({ name: 'Support', ext: 20000, desc: 'first line', active: true });
      const gid = groups.docs[0]!._id as string;
      expect((await send('PUT', `/client-api/user-group/${gid}`, { active: false })).body).toBe('true');
      const cdrs = await send('GET', `/client-api/cdr?page=1&pageSize=10&group=${gid}&keyword=`);
      expect(JSON.parse(cdrs.body)).toMatchObject({ docs: [], totalDocs: 0, page: 1 });
      expect((await send('DELETE', `/client-api/user-group/${gid}`)).body).toBe('true');
    });
  });
});
