import { desc, eq, sql } from 'drizzle-orm';
import { cdrs } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Cdr, CdrDisposition, CdrHangupBy } from './cdr.js';

/** Filter for {@link CdrRepository.list}. */
export interface CdrQuery {
  domain?: string | undefined;
  /** Most records returned (newest first); capped at 10,000. */
  limit: number;
}

/** Batching of {@link CdrRepository.insert}. */
export interface CdrBatchOptions {
  /** Longest a finished call waits for its row to be written (default 50 ms). */
  flushDelayMs?: number;
  /** Rows that trigger a write at once (default 500). */
  maxBatch?: number;
}

/**
 * One statement per batch, the rows passed as a single jsonb parameter: one commit for many calls
 * instead of one each (on PGlite every commit is synchronous file I/O), and nothing to build per row.
 */
const INSERT = `insert into cdrs (id, domain, call_id, caller, callee, caller_device, callee_device, started_at,
    answered_at, ended_at, duration_s, billable_s, disposition, sip_status, sip_reason, hangup_by, node)
  select coalesce(r.id, gen_random_uuid()), r.domain, r.call_id, r.caller, r.callee, r.caller_device, r.callee_device,
    r.started_at, r.answered_at, r.ended_at, r.duration_s, r.billable_s, r.disposition, r.sip_status, r.sip_reason,
    r.hangup_by, r.node
  from jsonb_to_recordset(`;
const INSERT_TAIL = `::jsonb) as r(id uuid, domain text, call_id text, caller text, callee text, caller_device text,
    callee_device text, started_at timestamptz, answered_at timestamptz, ended_at timestamptz, duration_s double precision,
    billable_s double precision, disposition text, sip_status integer, sip_reason text, hangup_by text, node text)`;

type Queued = { cdr: Cdr; done: () => void; failed: (err: unknown) => void };

/** Reads and writes call detail records (data access only). Writes are batched. */
export class CdrRepository {
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  readonly #flushDelayMs: number;
  readonly #maxBatch: number;

  constructor(
    private readonly store: Store,
    options: CdrBatchOptions = {},
  ) {
    this.#flushDelayMs = options.flushDelayMs ?? 50;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  /** Stores one CDR; resolves once it is written (with the others of its batch). */
  insert(cdr: Cdr): Promise<void> {
    return new Promise((done, failed) => {
      this.#queue.push({ cdr, done, failed });
      if (this.#queue.length >= this.#maxBatch) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.#flushDelayMs);
    });
  }

  /** Writes what is queued now; resolves when it (and every earlier batch) is written. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length > 0) this.#writing = this.#writing.then(() => this.#write(batch));
    return this.#writing;
  }

  async #write(batch: Queued[]): Promise<void> {
    try {
      await this.#insertRows(batch);
      for (const q of batch) q.done();
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.failed(err);
        return;
      }
      // One row the database refuses (say, text it cannot hold) must not cost the others theirs.
      for (const q of batch) await this.#insertRows([q]).then(q.done, q.failed);
    }
  }

  async #insertRows(batch: readonly Queued[]): Promise<void> {
    const json = JSON.stringify(batch.map((q) => toRecord(q.cdr)));
    await this.store.db.execute(sql`${sql.raw(INSERT)}${json}${sql.raw(INSERT_TAIL)}`);
  }

  /** The newest CDRs (by start time), optionally of one domain. */
  async list(query: CdrQuery): Promise<Cdr[]> {
    const limit = Math.max(0, Math.min(Math.trunc(query.limit), 10_000));
    const rows = await this.store.db
      .select()
      .from(cdrs)
      .where(query.domain === undefined ? undefined : eq(cdrs.domain, query.domain.toLowerCase()))
      .orderBy(desc(cdrs.startedAt), desc(cdrs.createdAt))
      .limit(limit);
    return rows.map((r) => ({
      id: r.id,
      callId: r.callId,
      domain: r.domain,
      caller: r.caller,
      callee: r.callee,
      callerDevice: r.callerDevice ?? undefined,
      calleeDevice: r.calleeDevice ?? undefined,
      startedAt: r.startedAt,
      answeredAt: r.answeredAt ?? undefined,
      endedAt: r.endedAt,
      durationS: r.durationS,
      billableS: r.billableS,
      disposition: r.disposition as CdrDisposition,
      sipStatus: r.sipStatus,
      sipReason: r.sipReason ?? undefined,
      hangupBy: (r.hangupBy ?? undefined) as CdrHangupBy | undefined,
      ...(r.node === null ? {} : { node: r.node }),
    }));
  }
}

/** A CDR as one element of the batch's jsonb array (column names as in {@link INSERT_TAIL}). */
function toRecord(cdr: Cdr): Record<string, unknown> {
  return {
    id: cdr.id ?? null,
    domain: cdr.domain.toLowerCase(),
    call_id: cdr.callId,
    caller: cdr.caller,
    callee: cdr.callee,
    caller_device: cdr.callerDevice ?? null,
    callee_device: cdr.calleeDevice ?? null,
    started_at: cdr.startedAt.toISOString(),
    answered_at: cdr.answeredAt?.toISOString() ?? null,
    ended_at: cdr.endedAt.toISOString(),
    duration_s: cdr.durationS,
    billable_s: cdr.billableS,
    disposition: cdr.disposition,
    sip_status: cdr.sipStatus,
    sip_reason: cdr.sipReason ?? null,
    hangup_by: cdr.hangupBy ?? null,
    node: cdr.node ?? null,
  };
}
