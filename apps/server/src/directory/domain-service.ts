import { and, asc, count, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import type { DirectoryEvents } from './directory-events.js';
import { directoryRights as rights } from './directory-rights.js';
import { domainPatchSchema, newDomainSchema, parseInput } from './directory-schemas.js';
import { uniqueViolation } from './directory-service.js';
import { directoryValidation } from './directory-validation.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';
import { isUuid } from './user-service.js';

/** A domain as the API shows it. */
export interface DomainRecord {
  id: string;
  domain: string;
  name: string | undefined;
  active: boolean;
  createdAt: Date;
  userCount: number;
}

type Row = typeof domains.$inferSelect;

/**
 * Tenants. A superadmin creates, changes and deletes them; everyone else sees only their own,
 * and its owner may rename it.
 */
export class DomainService {
  constructor(
    private readonly store: Store,
    private readonly events: DirectoryEvents,
    private readonly audit: AuditLog,
  ) {}

  /** Domains the principal may see (its own, or all for a superadmin). */
  async list(p: Principal, q: PageRequest = {}): Promise<Page<DomainRecord>> {
    const b = pageBounds(q);
    const own =
      p.role === 'superadmin' ? undefined : eq(domains.id, p.domainId ?? '00000000-0000-0000-0000-000000000000');
    const cond = and(own, keywordFilter(q.keyword, [domains.domain, domains.name]));
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select({ d: domains, userCount: count(users.id) })
        .from(domains)
        .leftJoin(users, eq(users.domainId, domains.id))
        .where(cond)
        .groupBy(domains.id)
        .orderBy(asc(domains.domain))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(domains).where(cond),
    ]);
    return toPage(
      rows.map((r) => toRecord(r.d, Number(r.userCount))),
      Number(total?.n ?? 0),
      b,
    );
  }

  /** One domain by id, if the principal may see it. */
  async get(p: Principal, id: string): Promise<DomainRecord> {
    const row = await this.#loadVisible(p, id);
    const [c] = await this.store.db.select({ n: count() }).from(users).where(eq(users.domainId, id));
    return toRecord(row, Number(c?.n ?? 0));
  }

  /** The domain's id by its name (for callers that address domains by name, like the CLI). */
  async idOf(p: Principal, domain: string): Promise<string> {
    let normalized: string;
    try {
      normalized = directoryValidation.domain(domain);
    } catch {
      throw DirectoryError.notFound('domain');
    }
    const [row] = await this.store.db.select({ id: domains.id }).from(domains).where(eq(domains.domain, normalized));
    if (!row || !rights.inDomain(p, row.id))
      throw new DirectoryError('DOMAIN_NOT_FOUND', `unknown domain ${normalized}`);
    return row.id;
  }

  /** Creates a domain (superadmin). */
  async create(p: Principal, input: z.input<typeof newDomainSchema>): Promise<DomainRecord> {
    rights.requireSuperadmin(p);
    const v = parseInput(newDomainSchema, input);
    let domain: string;
    try {
      domain = directoryValidation.domain(v.domain);
    } catch (err) {
      throw DirectoryError.validation({ domain: (err as Error).message });
    }
    try {
      const [row] = await this.store.db
        .insert(domains)
        .values({ domain, name: v.name || null, active: v.active })
        .returning();
      await this.audit.record(p, {
        action: 'create',
        resource: 'domain',
        resourceId: row!.id,
        domainId: row!.id,
        detail: { domain },
      });
      this.events.changed({ type: 'domain.created', domainId: row!.id, domain, id: row!.id });
      return toRecord(row!, 0);
    } catch (err) {
      if (uniqueViolation(err))
        throw new DirectoryError('DUPLICATE_DOMAIN', `domain ${domain} already exists`, { cause: err });
      throw err;
    }
  }

  /** Renames or (superadmin) activates/deactivates a domain. */
  async update(p: Principal, id: string, patch: z.input<typeof domainPatchSchema>): Promise<DomainRecord> {
    const current = await this.#loadVisible(p, id);
    rights.requireOwner(p, id);
    const v = parseInput(domainPatchSchema, patch);
    if (v.active !== undefined) rights.requireSuperadmin(p);
    const set: Partial<typeof domains.$inferInsert> = {};
    if (v.name !== undefined) set.name = v.name || null;
    if (v.active !== undefined) set.active = v.active;
    if (Object.keys(set).length > 0) {
      await this.store.db.update(domains).set(set).where(eq(domains.id, id));
      await this.audit.record(p, {
        action: 'update',
        resource: 'domain',
        resourceId: id,
        domainId: id,
        detail: { fields: Object.keys(set) },
      });
      this.events.changed({ type: 'domain.updated', domainId: id, domain: current.domain, id });
    }
    return this.get(p, id);
  }

  /** Deletes a domain and everything in it (superadmin). */
  async delete(p: Principal, id: string): Promise<void> {
    const current = await this.#loadVisible(p, id);
    rights.requireSuperadmin(p);
    await this.store.db.delete(domains).where(eq(domains.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'domain',
      resourceId: id,
      domainId: id,
      detail: { domain: current.domain },
    });
    this.events.changed({ type: 'domain.deleted', domainId: id, domain: current.domain, id });
  }

  async #loadVisible(p: Principal, id: string): Promise<Row> {
    if (!isUuid(id)) throw DirectoryError.notFound('domain');
    const [row] = await this.store.db.select().from(domains).where(eq(domains.id, id));
    if (!row || !rights.inDomain(p, row.id)) throw DirectoryError.notFound('domain');
    return row;
  }
}

function toRecord(r: Row, userCount: number): DomainRecord {
  return { id: r.id, domain: r.domain, name: r.name ?? undefined, active: r.active, createdAt: r.createdAt, userCount };
}
