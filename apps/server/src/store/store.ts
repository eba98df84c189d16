import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type * as schema from './schema.js';

/** The Drizzle database over either driver (PGlite or node-postgres), typed with our schema. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A transaction handle as passed to `db.transaction(async (tx) => ...)`. */
export type Transaction = PgTransaction<PgQueryResultHKT, typeof schema, ExtractTablesWithRelations<typeof schema>>;

/** An open, migrated database. `close()` is idempotent. */
export interface Store {
  readonly db: Database;
  /** Which engine is underneath. */
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}
