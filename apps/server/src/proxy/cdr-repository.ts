import { desc, eq } from 'drizzle-orm';
import { cdrs } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Cdr, CdrDisposition, CdrHangupBy } from './cdr.js';

/** Filter for {@link CdrRepository.list}. */
export interface CdrQuery {
  domain?: string | undefined;
  /** Most records returned (newest first); capped at 10,000. */
  limit: number;
}

/** Reads and writes call detail records (data access only). */
export class CdrRepository {
  constructor(private readonly store: Store) {}

  /** Stores one CDR. */
  async insert(cdr: Cdr): Promise<void> {
    await this.store.db.insert(cdrs).values({
      ...(cdr.id === undefined ? {} : { id: cdr.id }),
      domain: cdr.domain.toLowerCase(),
      callId: cdr.callId,
      caller: cdr.caller,
      callee: cdr.callee,
      callerDevice: cdr.callerDevice ?? null,
      calleeDevice: cdr.calleeDevice ?? null,
      startedAt: cdr.startedAt,
      answeredAt: cdr.answeredAt ?? null,
      endedAt: cdr.endedAt,
      durationS: cdr.durationS,
      billableS: cdr.billableS,
      disposition: cdr.disposition,
      sipStatus: cdr.sipStatus,
      sipReason: cdr.sipReason ?? null,
      hangupBy: cdr.hangupBy ?? null,
    });
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
    }));
  }
}
