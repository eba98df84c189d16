import { and, count, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Store } from '../store/store.js';
import { auditLog } from './directory-tables.js';
import { directoryRights } from './directory-rights.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';

/** What one audit entry records besides who and when. */
export interface AuditRecord {
  /** Verb, e.g. `create`, `update`, `delete`, `revoke`, `login`. */
  action: string;
  /** Resource kind, e.g. `user`, `group`, `token`, `setting`. */
  resource: string;
  resourceId?: string | undefined;
  /** Tenant the change belongs to (undefined for server-wide changes). */
  domainId?: string | undefined;
  /** Changed field names and other non-secret facts. Never passwords or tokens. */
  detail?: Record<string, unknown> | undefined;
}

/** An audit entry as listed. */
export interface AuditEntry extends Required<Pick<AuditRecord, 'action' | 'resource'>> {
  id: string;
  at: Date;
  actorId: string | undefined;
  actorEmail: string | undefined;
  actorRole: string;
  via: string;
  domainId: string | undefined;
  resourceId: string | undefined;
  detail: Record<string, unknown> | undefined;
}

/** Filters of {@link AuditLog.list}. */
export interface AuditQuery extends PageRequest {
  domainId?: string | undefined;
  resource?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** The audit trail: who changed what, when, through which door (API session, token, CLI). */
export class AuditLog {
  constructor(private readonly store: Store) {}

  /** Appends one entry for a change `principal` made. */
  async record(principal: Principal, r: AuditRecord): Promise<void> {
    await this.store.db.insert(auditLog).values({
      actorId: principal.userId ?? null,
      actorEmail: principal.email ?? null,
      actorRole: principal.role,
      via: principal.via,
      domainId: r.domainId ?? null,
      action: r.action,
      resource: r.resource,
      resourceId: r.resourceId ?? null,
      detail: r.detail ?? null,
    });
  }

  /** Entries newest first: a domain owner sees the own domain's, a superadmin everything. */
  async list(principal: Principal, q: AuditQuery = {}): Promise<Page<AuditEntry>> {
    if (principal.role !== 'superadmin') directoryRights.requireOwner(principal, principal.domainId ?? '');
    const domainId = directoryRights.scopeDomain(principal, q.domainId);
    const b = pageBounds(q);
    const conditions: (SQL | undefined)[] = [
      domainId === undefined ? undefined : eq(auditLog.domainId, domainId),
      q.resource === undefined ? undefined : eq(auditLog.resource, q.resource),
      q.from === undefined ? undefined : gte(auditLog.at, q.from),
      q.to === undefined ? undefined : lte(auditLog.at, q.to),
      keywordFilter(q.keyword, [auditLog.action, auditLog.resource, auditLog.actorEmail, auditLog.resourceId]),
    ];
    const where = and(...conditions);
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select()
        .from(auditLog)
        .where(where)
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(auditLog).where(where),
    ]);
    return toPage(
      rows.map((r) => ({
        id: r.id,
        at: r.at,
        actorId: r.actorId ?? undefined,
        actorEmail: r.actorEmail ?? undefined,
        actorRole: r.actorRole,
        via: r.via,
        domainId: r.domainId ?? undefined,
        action: r.action,
        resource: r.resource,
        resourceId: r.resourceId ?? undefined,
        detail: r.detail ?? undefined,
      })),
      Number(total?.n ?? 0),
      b,
    );
  }
}
