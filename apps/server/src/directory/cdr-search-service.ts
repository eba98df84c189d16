import { and, asc, count, desc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { cdrs, domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { DirectoryError } from './directory-error.js';
import { directoryRights as rights } from './directory-rights.js';
import { userGroups } from './directory-tables.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';
import { isUuid } from './user-service.js';

/** A CDR as the API shows it. */
export type CdrRecord = Omit<
  typeof cdrs.$inferSelect,
  'sipReason' | 'hangupBy' | 'callerDevice' | 'calleeDevice' | 'answeredAt'
> & {
  sipReason: string | undefined;
  hangupBy: string | undefined;
  callerDevice: string | undefined;
  calleeDevice: string | undefined;
  answeredAt: Date | undefined;
};

/** Sort keys of the CDR list. */
export const CDR_SORT = ['startedAt', 'durationS', 'billableS', 'caller', 'callee'] as const;

/** Filters of {@link CdrSearchService.search}. */
export interface CdrQuery extends PageRequest {
  /** Superadmin only: one domain by id. */
  domainId?: string | undefined;
  /** CDRs involving a member of this group, or calls to the group's extension. */
  group?: string | undefined;
  /** CDRs involving this user. */
  user?: string | undefined;
  disposition?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  sort?: (typeof CDR_SORT)[number] | undefined;
  order?: 'asc' | 'desc' | undefined;
}

/** Most rows one CSV export writes. */
export const CSV_EXPORT_MAX = 100_000;

const CSV_COLUMNS = [
  'id',
  'callId',
  'domain',
  'caller',
  'callee',
  'startedAt',
  'answeredAt',
  'endedAt',
  'durationS',
  'billableS',
  'disposition',
  'sipStatus',
  'sipReason',
  'hangupBy',
] as const;

/**
 * Searching call detail records with the directory's rights: a manager sees the domain's CDRs,
 * an agent only calls it made or received. Reads the proxy's cdrs table (written by
 * proxy/cdr-repository.ts) because the proxy context offers no search yet.
 */
export class CdrSearchService {
  constructor(private readonly store: Store) {}

  /** One page of matching CDRs, newest first unless sorted otherwise. */
  async search(p: Principal, q: CdrQuery = {}): Promise<Page<CdrRecord>> {
    const b = pageBounds(q);
    const where = await this.#where(p, q);
    const sortCol = {
      startedAt: cdrs.startedAt,
      durationS: cdrs.durationS,
      billableS: cdrs.billableS,
      caller: cdrs.caller,
      callee: cdrs.callee,
    }[q.sort ?? 'startedAt'];
    const dir = q.order === 'asc' ? asc : desc;
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db.select().from(cdrs).where(where).orderBy(dir(sortCol), dir(cdrs.id)).limit(b.limit).offset(b.offset),
      db.select({ n: count() }).from(cdrs).where(where),
    ]);
    return toPage(rows.map(toRecord), Number(total?.n ?? 0), b);
  }

  /** Matching CDRs as CSV (RFC 4180, at most {@link CSV_EXPORT_MAX} rows). */
  async exportCsv(p: Principal, q: Omit<CdrQuery, 'page' | 'pageSize'> = {}): Promise<string> {
    const where = await this.#where(p, q);
    const rows = await this.store.db
      .select()
      .from(cdrs)
      .where(where)
      .orderBy(desc(cdrs.startedAt), desc(cdrs.id))
      .limit(CSV_EXPORT_MAX);
    const lines = [CSV_COLUMNS.join(',')];
    for (const r of rows.map(toRecord)) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  async #where(p: Principal, q: CdrQuery): Promise<SQL | undefined> {
    const conditions: (SQL | undefined)[] = [];
    let domainName: string | undefined;
    const domainId = rights.scopeDomain(p, q.domainId);
    if (domainId !== undefined) {
      if (!isUuid(domainId)) throw DirectoryError.notFound('domain');
      const [d] = await this.store.db.select({ domain: domains.domain }).from(domains).where(eq(domains.id, domainId));
      if (!d) throw DirectoryError.notFound('domain');
      domainName = d.domain;
      conditions.push(eq(cdrs.domain, d.domain));
    }
    const parties = (addresses: string[]) =>
      addresses.length === 0 ? sql`false` : or(inArray(cdrs.caller, addresses), inArray(cdrs.callee, addresses));
    if (!rights.isManager(p)) {
      // An agent: only calls it took part in.
      const [me] = await this.store.db
        .select({ ext: users.ext })
        .from(users)
        .where(eq(users.id, p.userId ?? '00000000-0000-0000-0000-000000000000'));
      conditions.push(parties(me ? [`${me.ext}@${domainName}`] : []));
    }
    if (q.user !== undefined) {
      const u = isUuid(q.user)
        ? (
            await this.store.db
              .select({ ext: users.ext, domain: domains.domain, domainId: users.domainId })
              .from(users)
              .innerJoin(domains, eq(domains.id, users.domainId))
              .where(eq(users.id, q.user))
          )[0]
        : undefined;
      conditions.push(parties(u && rights.inDomain(p, u.domainId) ? [`${u.ext}@${u.domain}`] : []));
    }
    if (q.group !== undefined) {
      const g = isUuid(q.group)
        ? (
            await this.store.db
              .select({ id: userGroups.id, ext: userGroups.ext, domain: domains.domain, domainId: userGroups.domainId })
              .from(userGroups)
              .innerJoin(domains, eq(domains.id, userGroups.domainId))
              .where(eq(userGroups.id, q.group))
          )[0]
        : undefined;
      if (!g || !rights.inDomain(p, g.domainId)) conditions.push(sql`false`);
      else {
        const members = await this.store.db.select({ ext: users.ext }).from(users).where(eq(users.groupId, g.id));
        conditions.push(parties([`${g.ext}@${g.domain}`, ...members.map((m) => `${m.ext}@${g.domain}`)]));
      }
    }
    if (q.disposition !== undefined) conditions.push(eq(cdrs.disposition, q.disposition));
    if (q.from !== undefined) conditions.push(gte(cdrs.startedAt, q.from));
    if (q.to !== undefined) conditions.push(lt(cdrs.startedAt, q.to));
    conditions.push(
      keywordFilter(q.keyword, [cdrs.caller, cdrs.callee, cdrs.callId, cdrs.disposition, cdrs.sipReason]),
    );
    return and(...conditions);
  }
}

/** One CSV cell; cells that a spreadsheet would run as a formula are prefixed with a quote. */
function csvCell(v: string | number | Date | undefined | null): string {
  if (v === undefined || v === null) return '';
  let s = v instanceof Date ? v.toISOString() : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toRecord(r: typeof cdrs.$inferSelect): CdrRecord {
  return {
    ...r,
    sipReason: r.sipReason ?? undefined,
    hangupBy: r.hangupBy ?? undefined,
    callerDevice: r.callerDevice ?? undefined,
    calleeDevice: r.calleeDevice ?? undefined,
    answeredAt: r.answeredAt ?? undefined,
  };
}
