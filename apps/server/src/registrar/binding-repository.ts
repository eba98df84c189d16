import type { TransportProtocol } from '@handset/sip';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { bindings } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Binding } from './binding.js';

/** Rows per statement: bounds how long one synchronous PGlite statement holds the event loop. */
const CHUNK = 1000;

/**
 * One statement per chunk, the rows passed as a single jsonb parameter, each row a JSON array in the
 * column order of {@link toRow}: no per-row parameters to build or bind (Drizzle's multi-row insert
 * builder cost about as much as the insert itself), and no key names repeated in every row. Sending
 * and parsing that text is most of what an upsert costs the database: arrays instead of objects
 * halve it (PGlite, 1,000 rows: 5-10 ms against 13-18 ms). Times travel as epoch milliseconds and
 * become timestamptz by exact interval arithmetic.
 */
const UPSERT = `insert into bindings (aor, contact_key, domain, instance_id, reg_id, contact_uri, path, call_id, cseq,
    expires_at, flow_id, transport, source_address, source_port, user_agent, q, received_at)
  select r->>0, r->>1, r->>2, r->>3, (r->>4)::integer, r->>5, coalesce(r->6, '[]'::jsonb), r->>7, (r->>8)::integer,
    'epoch'::timestamptz + (r->>9)::bigint * interval '1 millisecond', r->>10, r->>11, r->>12, (r->>13)::integer,
    r->>14, (r->>15)::double precision, 'epoch'::timestamptz + (r->>16)::bigint * interval '1 millisecond'
  from jsonb_array_elements(`;
const UPSERT_TAIL = `::jsonb) as r
  on conflict (aor, contact_key) do update set domain = excluded.domain, instance_id = excluded.instance_id,
    reg_id = excluded.reg_id, contact_uri = excluded.contact_uri, path = excluded.path, call_id = excluded.call_id,
    cseq = excluded.cseq, expires_at = excluded.expires_at, flow_id = excluded.flow_id, transport = excluded.transport,
    source_address = excluded.source_address, source_port = excluded.source_port, user_agent = excluded.user_agent,
    q = excluded.q, received_at = excluded.received_at`;

/**
 * Persists registrar bindings so they survive a restart (data access only; the location
 * service owns the logic). A binding is identified by (aor, key).
 */
export class BindingRepository {
  constructor(private readonly store: Store) {}

  /** Inserts or replaces one binding. */
  async upsert(binding: Binding): Promise<void> {
    await this.upsertMany([binding]);
  }

  /** Inserts or replaces many bindings; within the batch the last one per (aor, key) wins. */
  async upsertMany(list: readonly Binding[]): Promise<void> {
    // ON CONFLICT DO UPDATE may not touch one row twice in a statement: keep the last change per key.
    const byKey = new Map<string, Binding>();
    for (const b of list) byKey.set(`${b.aor}\n${b.key}`, b);
    const unique = [...byKey.values()];
    for (let i = 0; i < unique.length; i += CHUNK) {
      // PGlite runs a statement synchronously: let I/O in between two chunks.
      if (i > 0) await yieldToIo();
      const json = JSON.stringify(unique.slice(i, i + CHUNK).map(toRow));
      await this.store.db.execute(sql`${sql.raw(UPSERT)}${json}${sql.raw(UPSERT_TAIL)}`);
    }
  }

  /**
   * Reclaims the space of replaced rows. Embedded PGlite runs no autovacuum, so without this the
   * table and its indexes grow with every refresh; PostgreSQL's autovacuum does it there.
   */
  async maintain(): Promise<void> {
    if (this.store.kind === 'pglite') await this.store.db.execute(sql`vacuum bindings`);
  }

  /** Removes one binding. */
  async remove(aor: string, key: string): Promise<void> {
    await this.store.db.delete(bindings).where(and(eq(bindings.aor, aor), eq(bindings.contactKey, key)));
  }

  /** Removes the listed bindings. */
  async removeMany(keys: ReadonlyArray<{ aor: string; key: string }>): Promise<void> {
    // One jsonb parameter per chunk: a long `(aor, key) in ((..), ..)` list expands into a deep
    // OR tree that stalls PGlite from about 330 pairs on.
    for (let i = 0; i < keys.length; i += CHUNK) {
      const list = JSON.stringify(keys.slice(i, i + CHUNK).map((k) => ({ aor: k.aor, key: k.key })));
      await this.store.db.execute(
        sql`delete from bindings b using jsonb_to_recordset(${list}::jsonb) as k(aor text, key text)
            where b.aor = k.aor and b.contact_key = k.key`,
      );
    }
  }

  /** Removes every binding of an AOR. */
  async removeAll(aor: string): Promise<void> {
    await this.store.db.delete(bindings).where(eq(bindings.aor, aor));
  }

  /** Bindings that have not expired at `now` (ms epoch), for reloading after a restart. */
  async loadAll(now: number): Promise<Binding[]> {
    const rows = await this.store.db
      .select()
      .from(bindings)
      .where(gt(bindings.expiresAt, new Date(now)));
    return rows.map(fromRow);
  }

  /** Deletes bindings expired at `now` (ms epoch); returns how many. */
  async purgeExpired(now: number): Promise<number> {
    const gone = await this.store.db
      .delete(bindings)
      .where(lte(bindings.expiresAt, new Date(now)))
      .returning({ aor: bindings.aor });
    return gone.length;
  }
}

/** A binding as one row of UPSERT's parameter: its columns in order, times as epoch milliseconds. */
function toRow(b: Binding): unknown[] {
  return [
    b.aor,
    b.key,
    b.domain,
    b.instanceId ?? null,
    b.regId ?? null,
    b.contactUri,
    b.path,
    b.callId,
    b.cseq,
    Math.round(b.expiresAt),
    b.flowId ?? null,
    b.transport,
    b.sourceAddress,
    b.sourcePort,
    b.userAgent ?? null,
    b.q ?? null,
    Math.round(b.receivedAt),
  ];
}

function fromRow(r: typeof bindings.$inferSelect): Binding {
  return {
    aor: r.aor,
    domain: r.domain,
    key: r.contactKey,
    instanceId: r.instanceId ?? undefined,
    regId: r.regId ?? undefined,
    contactUri: r.contactUri,
    path: r.path,
    callId: r.callId,
    cseq: r.cseq,
    expiresAt: r.expiresAt.getTime(),
    flowId: r.flowId ?? undefined,
    transport: r.transport as TransportProtocol,
    sourceAddress: r.sourceAddress,
    sourcePort: r.sourcePort,
    userAgent: r.userAgent ?? undefined,
    q: r.q ?? undefined,
    receivedAt: r.receivedAt.getTime(),
  };
}
