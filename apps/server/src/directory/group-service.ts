import { and, asc, count, desc, eq, inArray, notInArray } from 'drizzle-orm';
import type { z } from 'zod';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import type { DirectoryEvents } from './directory-events.js';
import { directoryRights as rights } from './directory-rights.js';
import { groupPatchSchema, newGroupSchema, parseInput } from './directory-schemas.js';
import { uniqueViolation } from './directory-service.js';
import { userGroups } from './directory-tables.js';
import { assertExtensionFree } from './extension-space.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';
import { isUuid } from './user-service.js';

/** A ring group as the API shows it. */
export interface GroupRecord {
  id: string;
  domainId: string;
  domain: string;
  name: string;
  ext: string;
  desc: string | undefined;
  active: boolean;
  strategy: 'simultaneous' | 'sequential';
  ringTimeoutS: number;
  createdAt: Date;
  /** Member user ids in ring order. */
  members: string[];
}

/** Input of {@link GroupService.create}. */
export type NewGroupInput = z.input<typeof newGroupSchema>;
/** Input of {@link GroupService.update}. */
export type GroupPatch = z.input<typeof groupPatchSchema>;

/** Sort keys of the group list. */
export const GROUP_SORT = ['ext', 'name', 'createdAt'] as const;

/** Filters of {@link GroupService.list}. */
export interface GroupQuery extends PageRequest {
  domainId?: string | undefined;
  active?: boolean | undefined;
  sort?: (typeof GROUP_SORT)[number] | undefined;
  order?: 'asc' | 'desc' | undefined;
}

type Row = typeof userGroups.$inferSelect;

/**
 * Ring groups and their members. Everyone in a domain may see its groups by name, extension and
 * strategy (the web phone shows the ring groups an agent can be reached through); the members are
 * shown to owners and admins, and to an agent only itself when it is one (an agent sees no other
 * user: "an agent only itself"). Owners and admins change them. A user is a member of at most one
 * group (the user's `group`), in the order given to {@link setMembers}.
 */
export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly events: DirectoryEvents,
    private readonly audit: AuditLog,
  ) {}

  /** One page of the groups the principal may see. */
  async list(p: Principal, q: GroupQuery = {}): Promise<Page<GroupRecord>> {
    const b = pageBounds(q);
    const domainId = rights.scopeDomain(p, q.domainId);
    const sortCol = { ext: userGroups.ext, name: userGroups.name, createdAt: userGroups.createdAt }[q.sort ?? 'ext'];
    const where = and(
      domainId === undefined ? undefined : eq(userGroups.domainId, domainId),
      q.active === undefined ? undefined : eq(userGroups.active, q.active),
      keywordFilter(q.keyword, [userGroups.name, userGroups.ext, userGroups.description]),
    );
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select({ g: userGroups, domain: domains.domain })
        .from(userGroups)
        .innerJoin(domains, eq(domains.id, userGroups.domainId))
        .where(where)
        .orderBy(q.order === 'desc' ? desc(sortCol) : asc(sortCol), asc(userGroups.id))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(userGroups).where(where),
    ]);
    const members = await this.#members(rows.map((r) => r.g.id));
    return toPage(
      rows.map((r) => toRecord(r.g, r.domain, visibleMembers(p, members.get(r.g.id)))),
      Number(total?.n ?? 0),
      b,
    );
  }

  /** One group. */
  async get(p: Principal, id: string): Promise<GroupRecord> {
    const { row, domain } = await this.#loadVisible(p, id);
    return toRecord(row, domain, visibleMembers(p, (await this.#members([id])).get(id)));
  }

  /** Creates a group (owner/admin). Its extension must be free of users and groups. */
  async create(p: Principal, domainId: string, input: NewGroupInput): Promise<GroupRecord> {
    rights.requireManager(p, domainId);
    const v = parseInput(newGroupSchema, input);
    const [dom] = await this.store.db.select().from(domains).where(eq(domains.id, domainId));
    if (!dom) throw DirectoryError.notFound('domain');
    const row = await this.#write(v.ext, async (tx) => {
      await assertExtensionFree(tx, domainId, v.ext, dom.domain);
      const [r] = await tx
        .insert(userGroups)
        .values({
          domainId,
          name: v.name,
          ext: v.ext,
          description: v.desc || null,
          active: v.active,
          strategy: v.strategy,
          ringTimeoutS: v.ringTimeoutS,
        })
        .returning();
      return r!;
    });
    await this.audit.record(p, {
      action: 'create',
      resource: 'group',
      resourceId: row.id,
      domainId,
      detail: { ext: row.ext },
    });
    this.events.changed({ type: 'group.created', domainId, domain: dom.domain, id: row.id });
    return toRecord(row, dom.domain, []);
  }

  /** Changes a group (owner/admin). */
  async update(p: Principal, id: string, patch: GroupPatch): Promise<GroupRecord> {
    const current = await this.#loadVisible(p, id);
    rights.requireManager(p, current.row.domainId);
    const v = parseInput(groupPatchSchema, patch);
    const set: Partial<typeof userGroups.$inferInsert> = {};
    if (v.name !== undefined) set.name = v.name;
    if (v.ext !== undefined) set.ext = v.ext;
    if (v.desc !== undefined) set.description = v.desc || null;
    if (v.active !== undefined) set.active = v.active;
    if (v.strategy !== undefined) set.strategy = v.strategy;
    if (v.ringTimeoutS !== undefined) set.ringTimeoutS = v.ringTimeoutS;
    let row = current.row;
    if (Object.keys(set).length > 0) {
      row = await this.#write(v.ext ?? row.ext, async (tx) => {
        if (v.ext !== undefined && v.ext !== current.row.ext)
          await assertExtensionFree(tx, current.row.domainId, v.ext, current.domain, { kind: 'group', id });
        const [r] = await tx.update(userGroups).set(set).where(eq(userGroups.id, id)).returning();
        if (!r) throw DirectoryError.notFound('group');
        return r;
      });
      await this.audit.record(p, {
        action: 'update',
        resource: 'group',
        resourceId: id,
        domainId: row.domainId,
        detail: { fields: Object.keys(set) },
      });
      this.events.changed({ type: 'group.updated', domainId: row.domainId, domain: current.domain, id });
    }
    return toRecord(row, current.domain, (await this.#members([id])).get(id) ?? []);
  }

  /** Deletes a group; its members stay, without a group. */
  async delete(p: Principal, id: string): Promise<void> {
    const current = await this.#loadVisible(p, id);
    rights.requireManager(p, current.row.domainId);
    await this.store.db.delete(userGroups).where(eq(userGroups.id, id));
    await this.audit.record(p, { action: 'delete', resource: 'group', resourceId: id, domainId: current.row.domainId });
    this.events.changed({ type: 'group.deleted', domainId: current.row.domainId, domain: current.domain, id });
  }

  /**
   * Replaces the members with `userIds`, in ring order. Every id must be a user of the group's
   * domain (VALIDATION otherwise); users leaving get no group.
   */
  async setMembers(p: Principal, id: string, userIds: readonly string[]): Promise<GroupRecord> {
    const current = await this.#loadVisible(p, id);
    const domainId = current.row.domainId;
    rights.requireManager(p, domainId);
    const unique = [...new Set(userIds)];
    if (unique.length !== userIds.length) throw DirectoryError.validation({ members: 'a user is listed twice' });
    const bad = unique.findIndex((u) => !isUuid(u));
    if (bad >= 0) throw DirectoryError.validation({ [`members.${bad}`]: 'not a valid id' });
    await this.store.db.transaction(async (tx) => {
      if (unique.length > 0) {
        const found = await tx
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.domainId, domainId), inArray(users.id, unique)));
        const known = new Set(found.map((f) => f.id));
        const missing = unique.findIndex((u) => !known.has(u));
        if (missing >= 0) throw DirectoryError.validation({ [`members.${missing}`]: 'no such user in this domain' });
      }
      await tx
        .update(users)
        .set({ groupId: null, groupPosition: 0 })
        .where(and(eq(users.groupId, id), unique.length > 0 ? notInArray(users.id, unique) : undefined));
      for (const [i, uid] of unique.entries())
        await tx.update(users).set({ groupId: id, groupPosition: i }).where(eq(users.id, uid));
    });
    await this.audit.record(p, {
      action: 'set-members',
      resource: 'group',
      resourceId: id,
      domainId,
      detail: { members: unique },
    });
    this.events.changed({ type: 'group.updated', domainId, domain: current.domain, id });
    return this.get(p, id);
  }

  /**
   * For call routing (no principal: the SIP side is trusted): the active group with this
   * extension in the domain and its active members' extensions in ring order, or undefined.
   */
  async resolveGroup(
    domain: string,
    ext: string,
  ): Promise<{ strategy: 'simultaneous' | 'sequential'; ringTimeoutS: number; members: string[] } | undefined> {
    const [g] = await this.store.db
      .select({ g: userGroups })
      .from(userGroups)
      .innerJoin(domains, eq(domains.id, userGroups.domainId))
      .where(and(eq(domains.domain, domain.toLowerCase()), eq(userGroups.ext, ext), eq(userGroups.active, true)));
    if (!g) return undefined;
    const members = await this.store.db
      .select({ ext: users.ext })
      .from(users)
      .where(and(eq(users.groupId, g.g.id), eq(users.active, true)))
      .orderBy(asc(users.groupPosition), asc(users.ext));
    return { strategy: g.g.strategy, ringTimeoutS: g.g.ringTimeoutS, members: members.map((m) => m.ext) };
  }

  async #members(groupIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (groupIds.length === 0) return out;
    const rows = await this.store.db
      .select({ id: users.id, groupId: users.groupId })
      .from(users)
      .where(inArray(users.groupId, groupIds))
      .orderBy(asc(users.groupPosition), asc(users.ext));
    for (const r of rows) {
      const list = out.get(r.groupId!) ?? [];
      list.push(r.id);
      out.set(r.groupId!, list);
    }
    return out;
  }

  async #loadVisible(p: Principal, id: string): Promise<{ row: Row; domain: string }> {
    if (!isUuid(id)) throw DirectoryError.notFound('group');
    const [r] = await this.store.db
      .select({ g: userGroups, domain: domains.domain })
      .from(userGroups)
      .innerJoin(domains, eq(domains.id, userGroups.domainId))
      .where(eq(userGroups.id, id));
    if (!r || !rights.inDomain(p, r.g.domainId)) throw DirectoryError.notFound('group');
    return { row: r.g, domain: r.domain };
  }

  async #write<T>(
    ext: string,
    fn: (tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0]) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.store.db.transaction(fn);
    } catch (err) {
      if (uniqueViolation(err))
        throw new DirectoryError('DUPLICATE_EXTENSION', `extension ${ext} already exists`, { cause: err });
      throw err;
    }
  }
}

/** The member ids `p` may see: all for managers, only itself for an agent. */
function visibleMembers(p: Principal, members: string[] | undefined): string[] {
  if (members === undefined) return [];
  return p.role === 'agent' ? members.filter((id) => id === p.userId) : members;
}

function toRecord(r: Row, domain: string, members: string[]): GroupRecord {
  return {
    id: r.id,
    domainId: r.domainId,
    domain,
    name: r.name,
    ext: r.ext,
    desc: r.description ?? undefined,
    active: r.active,
    strategy: r.strategy,
    ringTimeoutS: r.ringTimeoutS,
    createdAt: r.createdAt,
    members,
  };
}
