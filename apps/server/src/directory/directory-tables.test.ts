import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import * as schema from '../store/schema.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const TABLES: PgTable[] = [
  schema.users,
  schema.userGroups,
  schema.superadmins,
  schema.contacts,
  schema.apiTokens,
  schema.sessions,
  schema.auditLog,
];

describe.each(testBackends(pgdb))('migration 2 on %s', (_name, database) => {
  let store: Store;
  beforeAll(async () => {
    if (database) store = await openStore({ database });
  });
  afterAll(async () => {
    await store?.close();
  });

  it.skipIf(!database)('creates exactly the columns the Drizzle tables declare', async () => {
    for (const table of TABLES) {
      const cfg = getTableConfig(table);
      const result = await store.db.execute(
        sql`select column_name, is_nullable from information_schema.columns where table_schema = current_schema() and table_name = ${cfg.name} order by column_name`,
      );
      const declared = cfg.columns
        .map((c) => ({ column_name: c.name, is_nullable: c.notNull ? 'NO' : 'YES' }))
        .sort((a, b) => a.column_name.localeCompare(b.column_name));
      expect((result as unknown as { rows: unknown[] }).rows, cfg.name).toEqual(declared);
    }
  });

  it.skipIf(!database)('refuses a token owned by nobody, and a role outside the three', async () => {
    await expect(
      store.db.execute(sql`insert into api_tokens (name, token_hash, prefix) values ('x', 'h', 'p')`),
    ).rejects.toThrow();
    const [d] = await store.db.insert(schema.domains).values({ domain: 'mig.example' }).returning();
    await expect(
      store.db.execute(
        sql`insert into users (domain_id, ext, sip_password_enc, role) values (${d!.id}, '1', 'x', 'superadmin')`,
      ),
    ).rejects.toThrow();
  });
});
