import type { TransportProtocol } from '@handset/sip';
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { bindings } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Binding } from './binding.js';

type BindingRow = typeof bindings.$inferInsert;

/** Rows per multi-row statement: 18 columns each stays far below PostgreSQL's 65,535 parameters. */
const CHUNK = 500;

/** Column names refreshed on conflict (everything but the key). */
const UPDATED = [
  'domain',
  'instance_id',
  'reg_id',
  'contact_uri',
  'path',
  'call_id',
  'cseq',
  'expires_at',
  'flow_id',
  'transport',
  'source_address',
  'source_port',
  'user_agent',
  'q',
  'received_at',
] as const;

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
    const byKey = new Map<string, Binding>();
    for (const b of list) byKey.set(`${b.aor}\n${b.key}`, b);
    const rows = [...byKey.values()].map(toRow);
    const set = Object.fromEntries(UPDATED.map((c) => [camel(c), sql.raw(`excluded.${c}`)]));
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.store.db
        .insert(bindings)
        .values(rows.slice(i, i + CHUNK))
        .onConflictDoUpdate({ target: [bindings.aor, bindings.contactKey], set });
    }
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

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function toRow(b: Binding): BindingRow {
  return {
    aor: b.aor,
    contactKey: b.key,
    domain: b.domain,
    instanceId: b.instanceId ?? null,
    regId: b.regId ?? null,
    contactUri: b.contactUri,
    path: [...b.path],
    callId: b.callId,
    cseq: b.cseq,
    expiresAt: new Date(b.expiresAt),
    flowId: b.flowId ?? null,
    transport: b.transport,
    sourceAddress: b.sourceAddress,
    sourcePort: b.sourcePort,
    userAgent: b.userAgent ?? null,
    q: b.q ?? null,
    receivedAt: new Date(b.receivedAt),
  };
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
