import { and, asc, count, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { domains } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import type { DirectoryEvents } from './directory-events.js';
import { directoryRights as rights } from './directory-rights.js';
import { contactPatchSchema, newContactSchema, parseInput } from './directory-schemas.js';
import { contacts, type ContactNumber } from './directory-tables.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';
import { isUuid } from './user-service.js';

/** A phonebook entry. */
export interface ContactRecord {
  id: string;
  domainId: string;
  name: string;
  company: string | undefined;
  ext: string | undefined;
  numbers: ContactNumber[];
  /** The user whose private entry this is; undefined for the domain phonebook. */
  owner: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** Input of {@link ContactService.create}. */
export type NewContactInput = z.input<typeof newContactSchema>;
/** Input of {@link ContactService.update}. */
export type ContactPatch = z.input<typeof contactPatchSchema>;

/** Filters of {@link ContactService.list}. */
export interface ContactQuery extends PageRequest {
  domainId?: string | undefined;
  /** `domain`: only the shared phonebook; `private`: only the caller's own entries. */
  scope?: 'all' | 'domain' | 'private' | undefined;
  sort?: 'name' | 'company' | 'createdAt' | undefined;
  order?: 'asc' | 'desc' | undefined;
}

type Row = typeof contacts.$inferSelect;

/**
 * The phonebook: each domain's shared entries (managed by owners and admins, read by everyone
 * in the domain) and each user's private entries (seen and changed only by that user).
 */
export class ContactService {
  constructor(
    private readonly store: Store,
    private readonly events: DirectoryEvents,
    private readonly audit: AuditLog,
  ) {}

  /** The shared entries of the domain plus the caller's private ones. */
  async list(p: Principal, q: ContactQuery = {}): Promise<Page<ContactRecord>> {
    const b = pageBounds(q);
    const domainId = rights.scopeDomain(p, q.domainId);
    const mine = p.userId === undefined ? sql`false` : eq(contacts.ownerUserId, p.userId);
    const visibility =
      q.scope === 'domain'
        ? isNull(contacts.ownerUserId)
        : q.scope === 'private'
          ? mine
          : or(isNull(contacts.ownerUserId), mine);
    const sortCol = { name: contacts.name, company: contacts.company, createdAt: contacts.createdAt }[q.sort ?? 'name'];
    const where = and(
      domainId === undefined ? undefined : eq(contacts.domainId, domainId),
      visibility,
      keywordFilter(q.keyword, [contacts.name, contacts.company, contacts.ext, contacts.numbers]),
    );
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select()
        .from(contacts)
        .where(where)
        .orderBy(q.order === 'desc' ? desc(sortCol) : asc(sortCol), asc(contacts.id))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(contacts).where(where),
    ]);
    return toPage(rows.map(toRecord), Number(total?.n ?? 0), b);
  }

  /** One entry the caller may see. */
  async get(p: Principal, id: string): Promise<ContactRecord> {
    return toRecord(await this.#loadVisible(p, id));
  }

  /** Adds an entry: private (anyone signed in as a user) or to the domain phonebook (owner/admin). */
  async create(p: Principal, domainId: string, input: NewContactInput): Promise<ContactRecord> {
    const v = parseInput(newContactSchema, input);
    if (v.private) {
      if (p.userId === undefined || p.domainId !== domainId)
        throw DirectoryError.forbidden('private contacts belong to a user of the domain');
    } else rights.requireManager(p, domainId);
    const [dom] = await this.store.db.select().from(domains).where(eq(domains.id, domainId));
    if (!dom) throw DirectoryError.notFound('domain');
    const [row] = await this.store.db
      .insert(contacts)
      .values({
        domainId,
        ownerUserId: v.private ? p.userId! : null,
        name: v.name,
        company: v.company || null,
        ext: v.ext ?? null,
        numbers: v.numbers,
      })
      .returning();
    await this.#done(p, 'create', 'contact.created', row!, dom.domain);
    return toRecord(row!);
  }

  /** Changes an entry (the owner of a private one; owner/admin for shared ones). */
  async update(p: Principal, id: string, patch: ContactPatch): Promise<ContactRecord> {
    const current = await this.#loadWritable(p, id);
    const v = parseInput(contactPatchSchema, patch);
    const set: Partial<typeof contacts.$inferInsert> = { updatedAt: new Date() };
    if (v.name !== undefined) set.name = v.name;
    if (v.company !== undefined) set.company = v.company || null;
    if (v.ext !== undefined) set.ext = v.ext;
    if (v.numbers !== undefined) set.numbers = v.numbers;
    const [row] = await this.store.db.update(contacts).set(set).where(eq(contacts.id, id)).returning();
    await this.#done(p, 'update', 'contact.updated', row ?? current);
    return toRecord(row ?? current);
  }

  /** Deletes an entry. */
  async delete(p: Principal, id: string): Promise<void> {
    const current = await this.#loadWritable(p, id);
    await this.store.db.delete(contacts).where(eq(contacts.id, id));
    await this.#done(p, 'delete', 'contact.deleted', current);
  }

  async #loadVisible(p: Principal, id: string): Promise<Row> {
    if (!isUuid(id)) throw DirectoryError.notFound('contact');
    const [row] = await this.store.db.select().from(contacts).where(eq(contacts.id, id));
    if (!row || !rights.inDomain(p, row.domainId)) throw DirectoryError.notFound('contact');
    // Someone else's private entry does not exist as far as the caller can tell.
    if (row.ownerUserId !== null && row.ownerUserId !== p.userId && p.role !== 'superadmin')
      throw DirectoryError.notFound('contact');
    return row;
  }

  async #loadWritable(p: Principal, id: string): Promise<Row> {
    const row = await this.#loadVisible(p, id);
    if (row.ownerUserId === null) rights.requireManager(p, row.domainId);
    return row;
  }

  async #done(
    p: Principal,
    action: string,
    type: 'contact.created' | 'contact.updated' | 'contact.deleted',
    row: Row,
    domain?: string,
  ): Promise<void> {
    await this.audit.record(p, { action, resource: 'contact', resourceId: row.id, domainId: row.domainId });
    const name =
      domain ??
      (await this.store.db.select({ d: domains.domain }).from(domains).where(eq(domains.id, row.domainId)))[0]?.d ??
      '';
    this.events.changed({ type, domainId: row.domainId, domain: name, id: row.id });
  }
}

function toRecord(r: Row): ContactRecord {
  return {
    id: r.id,
    domainId: r.domainId,
    name: r.name,
    company: r.company ?? undefined,
    ext: r.ext ?? undefined,
    numbers: r.numbers,
    owner: r.ownerUserId ?? undefined,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
