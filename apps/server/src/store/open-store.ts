import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/server-config.js';
import { runMigrations } from './migration-runner.js';
import { acquirePgliteLock, type PgliteLock } from './pglite-lock.js';
import { PgliteWorkerClient } from './pglite-worker-client.js';
import * as schema from './schema.js';
import { StoreError } from './store-error.js';
import type { Database, Store } from './store.js';

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  logger?: Logger;
  /** Connections in the PostgreSQL pool (default 10). */
  poolSize?: number;
}

/**
 * Opens the database named by the config (embedded PGlite, or PostgreSQL) and brings its schema
 * up to date. An embedded directory is locked to this process until `close()`.
 */
export async function openStore(config: { database: DatabaseConfig }, opts: OpenStoreOptions = {}): Promise<Store> {
  const dbc = config.database;
  return dbc.kind === 'postgres' ? openPostgres(dbc.url, opts) : openPglite(dbc.dir, opts);
}

async function openPglite(dir: string | undefined, opts: OpenStoreOptions): Promise<Store> {
  const lock: PgliteLock | undefined = dir === undefined ? undefined : await acquirePgliteLock(dir);
  let client: PgliteWorkerClient | undefined;
  try {
    client = await PgliteWorkerClient.open(dir);
    // The worker client speaks the part of PGlite's interface the driver uses (query, transaction).
    const db = drizzlePglite({ client: client as unknown as PGlite, schema }) as unknown as Database;
    await runMigrations(db, { logger: opts.logger });
    const owned = client;
    return makeStore(db, 'pglite', async () => {
      try {
        await owned.close();
      } finally {
        await lock?.release();
      }
    });
  } catch (err) {
    await client?.close().catch(() => undefined);
    await lock?.release();
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      'CONNECT_FAILED',
      `cannot open the embedded database${dir ? ` at ${dir}` : ''}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

async function openPostgres(url: string, opts: OpenStoreOptions): Promise<Store> {
  // The PostgreSQL driver is loaded only for a PostgreSQL database (the embedded one does not need it).
  const [{ default: pg }, { drizzle: drizzlePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
  ]);
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  // An idle client's error (server restart) must not crash the process; the next query reports it.
  pool.on('error', (err) => opts.logger?.warn({ err }, 'postgres pool client error'));
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreError('CONNECT_FAILED', `cannot connect to PostgreSQL (${redact(url)}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  try {
    await runMigrations(db, { logger: opts.logger });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return makeStore(db, 'postgres', () => pool.end());
}

function makeStore(db: Database, kind: Store['kind'], end: () => Promise<void>): Store {
  let closing: Promise<void> | undefined;
  return {
    db,
    kind,
    close() {
      closing ??= end();
      return closing;
    },
  };
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'invalid URL';
  }
}
