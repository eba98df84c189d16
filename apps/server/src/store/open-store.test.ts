import { getTableConfig } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { runMigrations } from './migration-runner.js';
import { openStore } from './open-store.js';
import * as schema from './schema.js';
import { StoreError } from './store-error.js';
import type { Store } from './store.js';
import { createTestDatabase } from './test-databases.js';

const rows = async <T>(store: Store, query: string): Promise<T[]> =>
  ((await store.db.execute(sql.raw(query))) as unknown as { rows: T[] }).rows;

const latest = MIGRATIONS.at(-1)!.version;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handset-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openStore on PGlite', () => {
  it('creates the schema once and reopens without re-applying migrations, keeping the data', async () => {
    const dbDir = join(dir, 'db');
    const first = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    await first.db.insert(schema.domains).values({ domain: 'kept.example' });
    await first.close();
    await first.close(); // idempotent

    const second = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    try {
      const versions = await rows<{ version: number }>(
        second,
        'select version from schema_migrations order by version',
      );
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect((await second.db.select().from(schema.domains)).map((d) => d.domain)).toEqual(['kept.example']);
    } finally {
      await second.close();
    }
  });

  it('refuses a second open of the same directory while the first is open, and allows it after close', async () => {
    const dbDir = join(dir, 'locked');
    const first = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    const err = await openStore({ database: { kind: 'pglite', dir: dbDir } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('LOCKED');
    await first.close();
    const again = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    await again.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const dbDir = join(dir, 'stale');
    // pid 2^22+1 is above Linux's default pid_max, so no such process exists.
    await writeFile(`${dbDir}.lock`, `${2 ** 22 + 1}\n`);
    const store = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    await store.close();
  });

  it('refuses a directory locked by another live process', async () => {
    const dbDir = join(dir, 'other');
    await writeFile(`${dbDir}.lock`, JSON.stringify({ pid: 1, started: 0 }));
    const err = await openStore({ database: { kind: 'pglite', dir: dbDir } }).catch((e: unknown) => e);
    expect((err as StoreError).code).toBe('LOCKED');
    expect((err as StoreError).message).toContain('process 1');
  });

  it('takes over a lock naming this pid from an earlier process (recycled pid)', async () => {
    const dbDir = join(dir, 'recycled');
    await writeFile(`${dbDir}.lock`, JSON.stringify({ pid: process.pid, started: 1 }));
    const store = await openStore({ database: { kind: 'pglite', dir: dbDir } });
    await store.close();
  });

  describe('in memory', () => {
    let store: Store;
    beforeAll(async () => {
      store = await openStore({ database: { kind: 'pglite', dir: undefined } });
    });
    afterAll(async () => {
      await store.close();
    });

    it('has exactly the columns the Drizzle schema declares', async () => {
      for (const table of [schema.serverMeta, schema.domains, schema.users, schema.bindings, schema.cdrs]) {
        const cfg = getTableConfig(table);
        const actual = await rows<{ column_name: string; is_nullable: string }>(
          store,
          `select column_name, is_nullable from information_schema.columns where table_schema = current_schema() and table_name = '${cfg.name}' order by column_name`,
        );
        const declared = cfg.columns.map((c) => ({ column_name: c.name, is_nullable: c.notNull ? 'NO' : 'YES' }));
        declared.sort((a, b) => a.column_name.localeCompare(b.column_name));
        expect(actual, cfg.name).toEqual(declared);
      }
    });

    it('rolls back a failing migration entirely', async () => {
      const bad = [
        {
          version: latest + 1,
          name: 'half',
          statements: ['create table half_done (id int)', 'select * from no_such_table'],
        },
      ];
      const err = await runMigrations(store.db, { migrations: [...MIGRATIONS, ...bad] }).catch((e: unknown) => e);
      expect((err as StoreError).code).toBe('MIGRATION_FAILED');
      expect(await rows(store, "select 1 from information_schema.tables where table_name = 'half_done'")).toHaveLength(
        0,
      );
      expect(await rows(store, `select 1 from schema_migrations where version = ${latest + 1}`)).toHaveLength(0);
    });

    it('is a no-op to migrate an up-to-date database', async () => {
      expect(await runMigrations(store.db)).toEqual([]);
    });

    it('refuses a database whose schema is newer than this code', async () => {
      await store.db.execute(
        sql`insert into schema_migrations (version, name) values (${latest + 1}, 'from the future')`,
      );
      try {
        const err = await runMigrations(store.db).catch((e: unknown) => e);
        expect((err as StoreError).code).toBe('SCHEMA_TOO_NEW');
      } finally {
        await store.db.execute(sql`delete from schema_migrations where version = ${latest + 1}`);
      }
    });
  });
});

const pgdb = await createTestDatabase();

describe.skipIf(!pgdb)('openStore on PostgreSQL', () => {
  afterAll(async () => {
    await pgdb?.drop();
  });

  it('migrates once when two processes start at the same moment', async () => {
    const database = { kind: 'postgres' as const, url: pgdb!.url };
    const [a, b, c] = await Promise.all([openStore({ database }), openStore({ database }), openStore({ database })]);
    try {
      const versions = await rows<{ version: number }>(a, 'select version from schema_migrations order by version');
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      await b.db.insert(schema.domains).values({ domain: 'shared.example' });
      expect((await c.db.select().from(schema.domains)).map((d) => d.domain)).toEqual(['shared.example']);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('reports an unreachable server as CONNECT_FAILED without the password', async () => {
    const err = await openStore({ database: { kind: 'postgres', url: 'postgres://u:topsecret@127.0.0.1:1/x' } }).catch(
      (e: unknown) => e,
    );
    expect((err as StoreError).code).toBe('CONNECT_FAILED');
    expect((err as StoreError).message).not.toContain('topsecret');
  });
});
