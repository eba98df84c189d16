import { afterEach, describe, expect, it } from 'vitest';
import { PgliteWorkerClient } from './pglite-worker-client.js';

describe('PgliteWorkerClient (embedded database in its own thread)', () => {
  let client: PgliteWorkerClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  async function open(): Promise<PgliteWorkerClient> {
    client = await PgliteWorkerClient.open(undefined);
    await client.exec('create table t (id int primary key, note text, at timestamptz, doc jsonb)');
    return client;
  }

  it('runs parameterized queries in array and object row modes, keeping requested types as text', async () => {
    const c = await open();
    await c.query('insert into t values ($1, $2, $3, $4)', [1, 'hé', '2026-12-02T03:00:00Z', { a: [1, 2] }]);
    const objects = await c.query('select * from t', [], { rowMode: 'object' });
    expect(objects.rows).toEqual([{ id: 1, note: 'hé', at: expect.any(Date) as unknown, doc: { a: [1, 2] } }]);
    // 1184 = timestamptz: drizzle passes an identity parser for it and gets the text.
    const arrays = await c.query('select id, at from t', [], { rowMode: 'array', parsers: { 1184: (v: string) => v } });
    expect(arrays.rows).toEqual([[1, '2026-12-02 03:00:00+00']]);
    expect(arrays.fields.map((f) => f.name)).toEqual(['id', 'at']);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const c = await open();
    await c.transaction(async (tx) => {
      await tx.query('insert into t (id) values (1)');
      await tx.query('insert into t (id) values (2)');
    });
    await expect(
      c.transaction(async (tx) => {
        await tx.query('insert into t (id) values (3)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await c.query('select id from t order by id', [], { rowMode: 'array' });
    expect(rows).toEqual([[1], [2]]);
  });

  it('makes statements from outside wait for an open transaction', async () => {
    const c = await open();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = c.transaction(async (t) => {
      await t.query('insert into t (id) values (1)');
      await gate;
      order.push('commit');
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = c.query('select count(*)::int as n from t', [], { rowMode: 'object' }).then((r) => {
      order.push('outside');
      return r.rows;
    });
    await new Promise((r) => setTimeout(r, 50));
    release();
    await tx;
    expect(await outside).toEqual([{ n: 1 }]);
    expect(order).toEqual(['commit', 'outside']);
  });

  it("reports a database error with PostgreSQL's fields (code, constraint) and stays usable", async () => {
    const c = await open();
    await c.query('insert into t (id) values (1)');
    const err = (await c.query('insert into t (id) values (1)').catch((e: unknown) => e)) as Error & {
      code?: string;
      constraint?: string;
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('t_pkey');
    await expect(c.query('select 1 as one', [], { rowMode: 'object' })).resolves.toMatchObject({ rows: [{ one: 1 }] });
    const failedCommit = c.transaction(async (tx) => {
      await tx.query('insert into t (id) values (1)');
    });
    await expect(failedCommit).rejects.toMatchObject({ code: '23505' });
  });

  it('refuses calls after close, and close is idempotent', async () => {
    const c = await open();
    await Promise.all([c.close(), c.close()]);
    await expect(c.query('select 1')).rejects.toThrow(/exited|closed|not open/);
  });
});
