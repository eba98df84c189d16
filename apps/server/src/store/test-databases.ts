import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isAlive } from './pglite-lock.js';

/** A throw-away PostgreSQL database for one test file. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Server used by the PostgreSQL tests (HANDSET_TEST_PG_URL overrides). */
export const TEST_PG_URL = process.env.HANDSET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Creates a uniquely named database on the test server so parallel runs never share tables;
 * `drop()` removes it (forcing off any connection left behind). Undefined when the server cannot
 * be reached outside CI (locally the PostgreSQL tests are then skipped; CI must have it).
 */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => undefined);
    if (process.env.CI) throw new Error(`PostgreSQL for tests is not reachable at ${TEST_PG_URL}`, { cause: err });
    return undefined;
  }
  const name = `handset_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await dropOrphans(admin);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Drops databases left by test runs that were killed before their `drop()` (their pid is gone). */
async function dropOrphans(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "select datname from pg_database where datname like 'handset\\_t\\_%'",
  );
  for (const { datname } of rows) {
    const pid = Number(/^handset_t_(\d+)_[0-9a-f]+$/.exec(datname)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && !isAlive(pid)) {
      await admin.query(`drop database if exists ${datname} with (force)`).catch(() => undefined);
    }
  }
}

/**
 * The engines a data-access test runs on: in-memory PGlite always, and PostgreSQL when `pg` is
 * there (a `database` of undefined means "skip": the server was unreachable outside CI).
 */
export function testBackends(
  pg: TestDatabase | undefined,
): Array<[string, { kind: 'pglite'; dir: undefined } | { kind: 'postgres'; url: string } | undefined]> {
  return [
    ['PGlite', { kind: 'pglite', dir: undefined }],
    ['PostgreSQL', pg ? { kind: 'postgres', url: pg.url } : undefined],
  ];
}
