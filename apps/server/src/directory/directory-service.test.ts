import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { DirectoryError } from './directory-error.js';
import { DirectoryService } from './directory-service.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

async function rejection(p: Promise<unknown>): Promise<DirectoryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof DirectoryError) return err;
  throw new Error(`expected a DirectoryError, got ${String(err)}`);
}

async function userCount(store: Store, domain: string): Promise<number> {
  const result = await store.db.execute(
    sql`select count(*)::int as n from users u join domains d on d.id = u.domain_id where d.domain = ${domain}`,
  );
  return (result as { rows: { n: number }[] }).rows[0]!.n;
}

function csvOf(count: number, start = 1000): string {
  const lines = ['ext,password,name,email'];
  for (let i = 0; i < count; i++)
    lines.push(`${start + i},pw-${start + i},User ${start + i},u${start + i}@bulk.example`);
  return lines.join('\n') + '\n';
}

describe.each(testBackends(pgdb))('DirectoryService on %s', (_name, database) => {
  let store: Store;
  let box: SecretBox;
  let dir: DirectoryService;
  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    box = new SecretBox(randomBytes(32));
    dir = new DirectoryService(store, box);
    await dir.verifySecretKey();
  });
  afterAll(async () => {
    await store?.close();
  });

  describe.skipIf(!database)('', () => {
    describe('domains', () => {
      it('adds a domain lowercased and finds it by any case', async () => {
        const d = await dir.addDomain('Alpha.Example', { name: 'Alpha Inc' });
        expect(d).toMatchObject({ domain: 'alpha.example', name: 'Alpha Inc', active: true });
        expect(await dir.getDomain('ALPHA.example')).toEqual(d);
        expect(await dir.isLocalDomain('alpha.EXAMPLE')).toBe(true);
        expect(await dir.isLocalDomain('other.example')).toBe(false);
        expect(await dir.isLocalDomain('not a domain')).toBe(false);
        expect(await dir.getDomain('nope.example')).toBeUndefined();
      });

      it('refuses a duplicate domain', async () => {
        await dir.addDomain('dup.example');
        const err = await rejection(dir.addDomain('DUP.example'));
        expect(err.code).toBe('DUPLICATE_DOMAIN');
        expect(err.message).toBe('domain dup.example already exists');
      });

      it('refuses a malformed domain', async () => {
        expect((await rejection(dir.addDomain('bad domain'))).code).toBe('INVALID_INPUT');
      });

      it('lists domains with their user counts', async () => {
        await dir.addDomain('count.example');
        await dir.addUser({ domain: 'count.example', ext: '1', password: 'p' });
        await dir.addUser({ domain: 'count.example', ext: '2', password: 'p' });
        const list = await dir.listDomains();
        expect(list.find((d) => d.domain === 'count.example')?.userCount).toBe(2);
        expect(list.find((d) => d.domain === 'dup.example')?.userCount).toBe(0);
        const names = list.map((d) => d.domain);
        expect(names).toEqual([...names].sort());
      });
    });

    describe('users', () => {
      beforeAll(async () => {
        if (database) await dir.addDomain('users.example');
      });

      it('adds a user and hands out decrypted credentials for digest auth', async () => {
        const u = await dir.addUser({
          domain: 'Users.Example',
          ext: '1001',
          password: 'pw 1001',
          name: ' Alice ',
          email: 'Alice@Users.Example',
        });
        expect(u).toMatchObject({
          domain: 'users.example',
          ext: '1001',
          name: 'Alice',
          email: 'alice@users.example',
          active: true,
        });
        expect(u).not.toHaveProperty('password');
        expect(await dir.getSipCredentials('users.example', '1001')).toEqual({
          domain: 'users.example',
          ext: '1001',
          password: 'pw 1001',
          displayName: 'Alice',
        });
      });

      it('stores the SIP password encrypted at rest', async () => {
        await dir.addUser({ domain: 'users.example', ext: 'enc', password: 'PlainTextSecret!' });
        const result = await store.db.execute(sql`select sip_password_enc from users where ext = 'enc'`);
        const raw = (result as { rows: { sip_password_enc: string }[] }).rows[0]!.sip_password_enc;
        expect(raw).not.toContain('PlainTextSecret');
        expect(raw).toMatch(/^v1\./);
        expect(box.open(raw)).toBe('PlainTextSecret!');
      });

      it('refuses a duplicate extension in the same domain but allows it in another', async () => {
        await dir.addUser({ domain: 'users.example', ext: '2000', password: 'a' });
        const err = await rejection(dir.addUser({ domain: 'users.example', ext: '2000', password: 'b' }));
        expect(err.code).toBe('DUPLICATE_EXTENSION');
        expect(err.message).toBe('extension 2000 already exists in users.example');
        await dir.addDomain('users2.example');
        await dir.addUser({ domain: 'users2.example', ext: '2000', password: 'c' });
        expect((await dir.getSipCredentials('users.example', '2000'))?.password).toBe('a');
        expect((await dir.getSipCredentials('users2.example', '2000'))?.password).toBe('c');
      });

      it('refuses an email another user has', async () => {
        await dir.addUser({ domain: 'users.example', ext: 'm1', password: 'a', email: 'same@mail.example' });
        const err = await rejection(
          dir.addUser({ domain: 'users2.example', ext: 'm2', password: 'a', email: 'SAME@mail.example' }),
        );
        expect(err.code).toBe('DUPLICATE_EMAIL');
      });

      it('refuses a user of an unknown domain', async () => {
        const err = await rejection(dir.addUser({ domain: 'ghost.example', ext: '1', password: 'a' }));
        expect(err.code).toBe('DOMAIN_NOT_FOUND');
        expect(err.message).toBe('unknown domain ghost.example');
      });

      it('refuses bad input without echoing the password', async () => {
        const err = await rejection(dir.addUser({ domain: 'users.example', ext: 'has space', password: 'TopSecret' }));
        expect(err.code).toBe('INVALID_INPUT');
        expect(err.message).not.toContain('TopSecret');
        expect((await rejection(dir.addUser({ domain: 'users.example', ext: 'x', password: '' }))).code).toBe(
          'INVALID_INPUT',
        );
      });

      it('gives no credentials for unknown or inactive users and domains', async () => {
        await dir.addDomain('inactive.example');
        await dir.addUser({ domain: 'inactive.example', ext: '1', password: 'a' });
        await dir.addUser({ domain: 'users.example', ext: 'off', password: 'a' });
        expect(await dir.getSipCredentials('users.example', 'nobody')).toBeUndefined();
        expect(await dir.getSipCredentials('ghost.example', '1001')).toBeUndefined();
        expect(await dir.getSipCredentials('users.example', '1001 ')).toBeUndefined();
        await store.db.execute(sql`update users set active = false where ext = 'off'`);
        await store.db.execute(sql`update domains set active = false where domain = 'inactive.example'`);
        expect(await dir.getSipCredentials('users.example', 'off')).toBeUndefined();
        expect(await dir.getSipCredentials('inactive.example', '1')).toBeUndefined();
        expect(await dir.isLocalDomain('inactive.example')).toBe(false);
        // The single-user look-up provisioning uses hides the same users.
        for (const [domain, ext] of [
          ['users.example', 'off'],
          ['inactive.example', '1'],
          ['users.example', 'nobody'],
          ['ghost.example', '1001'],
          ['users.example', '1001 '],
        ] as const)
          expect(await dir.findActiveUser(domain, ext)).toBeUndefined();
        const found = await dir.findActiveUser('USERS.example', '1001');
        const domainId = (await dir.getDomain('users.example'))?.id;
        expect(found).toMatchObject({ domain: 'users.example', ext: '1001', active: true, domainId });
        expect(found).not.toHaveProperty('password');
      });

      it('lists users of one domain, or of all', async () => {
        const mine = await dir.listUsers({ domain: 'USERS2.example' });
        expect(mine.map((u) => u.ext)).toEqual(['2000']);
        const all = await dir.listUsers();
        expect(all.map((u) => `${u.ext}@${u.domain}`)).toEqual(
          expect.arrayContaining(['1001@users.example', '2000@users2.example']),
        );
        expect((await rejection(dir.listUsers({ domain: 'ghost.example' }))).code).toBe('DOMAIN_NOT_FOUND');
      });

      it('reports every change to listeners, and survives a throwing one', async () => {
        const seen: Array<string | undefined> = [];
        const offBad = dir.onChange(() => {
          throw new Error('listener bug');
        });
        const off = dir.onChange((d) => seen.push(d));
        await dir.addUser({ domain: 'users.example', ext: 'ev', password: 'a' });
        await dir.addDomain('events.example');
        off();
        offBad();
        await dir.addDomain('events2.example');
        expect(seen).toEqual(['users.example', 'events.example']);
      });
    });

    describe('CSV import', () => {
      beforeAll(async () => {
        if (database) await dir.addDomain('bulk.example');
      });

      it('imports 10,000 users in one go', async () => {
        const started = Date.now();
        expect(await dir.importUsers('bulk.example', csvOf(10_000))).toEqual({ imported: 10_000 });
        const took = Date.now() - started;
        expect(await userCount(store, 'bulk.example')).toBe(10_000);
        expect(await dir.getSipCredentials('bulk.example', '10999')).toEqual({
          domain: 'bulk.example',
          ext: '10999',
          password: 'pw-10999',
          displayName: 'User 10999',
        });
        // Not a benchmark: a generous bound that a row-at-a-time import would blow.
        expect(took).toBeLessThan(30_000);
      }, 60_000);

      it('writes nothing when one line is bad, and names that line', async () => {
        await dir.addDomain('bad.example');
        const lines = csvOf(20, 5000).split('\n');
        lines[7] = '5006,,No Password,';
        const err = await rejection(dir.importUsers('bad.example', lines.join('\n')));
        expect(err.code).toBe('CSV_LINE');
        expect(err.line).toBe(8);
        expect(err.message).toBe('line 8: password must not be empty');
        expect(await userCount(store, 'bad.example')).toBe(0);
      });

      it('names the line of a duplicate extension inside the file', async () => {
        const err = await rejection(
          dir.importUsers('bad.example', 'ext,password\n1001,a\n1002,b\n1003,c\n1004,d\n1006,e\n1005,f\n1005,g\n'),
        );
        expect(err.message).toBe('line 8: duplicate extension 1005 (also on line 7)');
        expect(await userCount(store, 'bad.example')).toBe(0);
      });

      it('names the line of an extension that already exists, and writes nothing', async () => {
        await dir.addUser({ domain: 'bad.example', ext: '7003', password: 'x' });
        const err = await rejection(dir.importUsers('bad.example', 'ext,password\n7001,a\n7002,b\n7003,c\n7004,d\n'));
        expect(err.code).toBe('CSV_LINE');
        expect(err.reason).toBe('DUPLICATE_EXTENSION');
        expect(err.message).toBe('line 4: extension 7003 already exists in bad.example');
        expect(await userCount(store, 'bad.example')).toBe(1);
      });

      it("names the line of an extension that is a group's, and writes nothing", async () => {
        const domainId = (await dir.getDomain('bad.example'))!.id;
        await store.db.execute(
          sql`insert into user_groups (domain_id, name, ext) values (${domainId}::uuid, 'Sales', '7202')`,
        );
        const err = await rejection(dir.importUsers('bad.example', 'ext,password\n7201,a\n7202,b\n'));
        expect(err.code).toBe('CSV_LINE');
        expect(err.reason).toBe('DUPLICATE_EXTENSION');
        expect(err.message).toBe('line 3: extension 7202 already exists in bad.example');
        expect(await userCount(store, 'bad.example')).toBe(1);
      });

      it('names the line of an email another user already has', async () => {
        await dir.addUser({ domain: 'bad.example', ext: '7100', password: 'x', email: 'taken@mail.example' });
        const err = await rejection(
          dir.importUsers('bad.example', 'ext,email,password\n7101,free@mail.example,a\n7102,Taken@Mail.example,b\n'),
        );
        expect(err.message).toBe('line 3: email taken@mail.example is already used by another user');
        expect(await userCount(store, 'bad.example')).toBe(2);
      });

      it('refuses an import into an unknown domain', async () => {
        const err = await rejection(dir.importUsers('ghost.example', 'ext,password\n1,a\n'));
        expect(err.code).toBe('DOMAIN_NOT_FOUND');
      });

      it('accepts a header-only file as zero users', async () => {
        expect(await dir.importUsers('bad.example', 'ext,password\n')).toEqual({ imported: 0 });
      });
    });

    it('refuses a server key other than the one the database was set up with', async () => {
      const other = new DirectoryService(store, new SecretBox(randomBytes(32)));
      await expect(other.verifySecretKey()).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
      await dir.verifySecretKey();
    });

    it('reports a password it cannot decrypt instead of answering "no such user"', async () => {
      await dir.addDomain('rekey.example');
      await dir.addUser({ domain: 'rekey.example', ext: '1', password: 'a' });
      const other = new DirectoryService(store, new SecretBox(randomBytes(32)));
      expect((await rejection(other.getSipCredentials('rekey.example', '1'))).code).toBe('CREDENTIALS_UNREADABLE');
    });
  });
});
