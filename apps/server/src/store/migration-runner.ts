import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { MIGRATIONS, type Migration } from './migrations.js';
import { StoreError } from './store-error.js';
import type { Database } from './store.js';

/** Advisory-lock key that serializes migrations across processes sharing one PostgreSQL database. */
export const MIGRATION_LOCK_KEY = 0x48_61_6e_64; // "Hand"

/**
 * Applies the pending migrations in one transaction. The transaction first takes a
 * transaction-scoped advisory lock, so a second process starting at the same moment waits and
 * then finds nothing left to do. Returns the versions it applied.
 */
export async function runMigrations(
  db: Database,
  opts: { migrations?: readonly Migration[]; logger?: Logger } = {},
): Promise<number[]> {
  const migrations = [...(opts.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await tx.execute(
        sql.raw(`create table if not exists schema_migrations (
          version integer primary key,
          name text not null,
          applied_at timestamptz not null default now()
        )`),
      );
      // Both drivers answer execute() with `{ rows }`; the shared base type leaves it untyped.
      const result = (await tx.execute(sql`select version from schema_migrations`)) as { rows: { version: number }[] };
      const done = new Set(result.rows.map((r) => Number(r.version)));
      const newest = migrations.at(-1)?.version ?? 0;
      const tooNew = [...done].filter((v) => v > newest);
      if (tooNew.length > 0) {
        throw new StoreError(
          'SCHEMA_TOO_NEW',
          `database schema version ${Math.max(...tooNew)} is newer than this Handset knows (${newest}); upgrade Handset`,
        );
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) await tx.execute(sql.raw(statement));
        await tx.execute(sql`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`);
        opts.logger?.info({ version: m.version, name: m.name }, 'applied migration');
        applied.push(m.version);
      }
      return applied;
    });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('MIGRATION_FAILED', `database migration failed: ${(err as Error).message}`, { cause: err });
  }
}
