import { randomBytes } from 'node:crypto';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { DirectoryService } from '../directory/directory-service.js';
import { DeviceRepository } from '../provisioning/device-repository.js';
import { openStore } from './open-store.js';
import * as schema from './schema.js';
import type { Store } from './store.js';
import { createTestDatabase, testBackends } from './test-databases.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const tables = Object.values(schema).filter((t): t is PgTable => t instanceof PgTable);

describe.each(testBackends(pgdb))('migrations on %s', (_name, database) => {
  let store: Store;
  beforeAll(async () => {
    if (database) store = await openStore({ database });
  });
  afterAll(async () => {
    await store?.close();
  });

  it.skipIf(!database).each(tables.map((t) => [getTableConfig(t).name, t] as const))(
    'the Drizzle table %s matches the migrated columns (name, type, nullability)',
    async (name, table) => {
      const result = await store.db.execute(
        sql`select column_name, data_type, is_nullable from information_schema.columns where table_schema = 'public' and table_name = ${name}`,
      );
      const actual = (
        result as unknown as { rows: { column_name: string; data_type: string; is_nullable: string }[] }
      ).rows
        .map((r) => `${r.column_name} ${r.data_type}${r.is_nullable === 'NO' ? ' not null' : ''}`)
        .sort();
      const declared = getTableConfig(table)
        .columns.map((c) => `${c.name} ${c.getSQLType()}${c.notNull ? ' not null' : ''}`)
        .sort();
      expect(actual).toEqual(declared);
    },
  );

  it.skipIf(!database)('provisioning devices go with their domain, lines with their user', async () => {
    const directory = new DirectoryService(store, new SecretBox(randomBytes(32)));
    const d = await directory.addDomain('cascade.example');
    const alice = await directory.addUser({ domain: d.domain, ext: '1001', password: 'pw' });
    const bob = await directory.addUser({ domain: d.domain, ext: '1002', password: 'pw' });
    const devices = new DeviceRepository(store);
    const device = await devices.create({
      domainId: d.id,
      template: 'sessiontalk/android',
      appDeviceId: 'cascade-app',
      ext: '1001',
      label: undefined,
      codeId: '00000000-0000-4000-8000-000000000001',
      codeHash: 'cascade-hash',
      codeExpiresAt: new Date(),
      line: { userId: alice.id, ext: '1001', transport: 'udp' },
    });
    await devices.addLine(device.id, { domainId: d.id, userId: bob.id, ext: '1002', transport: 'tcp' });
    await store.db.execute(sql`delete from users where id = ${bob.id}`);
    expect((await devices.get(device.id))?.lines.map((l) => l.ext)).toEqual(['1001']);
    await store.db.execute(sql`delete from domains where id = ${d.id}`);
    expect(await devices.get(device.id)).toBeUndefined();
  });

  it.skipIf(!database)('refuses a device template or line transport outside the known ones', async () => {
    const directory = new DirectoryService(store, new SecretBox(randomBytes(32)));
    const d = await directory.addDomain('checks.example');
    await expect(
      store.db.execute(
        sql`insert into provisioning_devices (domain_id, template, app_device_id, ext, code_id, code_hash, code_expires_at) values (${d.id}, 'sessiontalk/blackberry', 'x', '1', gen_random_uuid(), 'h', now())`,
      ),
    ).rejects.toThrow();
  });
});
