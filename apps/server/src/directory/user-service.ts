import { randomBytes } from 'node:crypto';
import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { SecretBox } from '../config/secret-box.js';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import type { DirectoryEvents } from './directory-events.js';
import { directoryRights as rights } from './directory-rights.js';
import { newUserSchema, parseInput, userPatchSchema } from './directory-schemas.js';
import { uniqueViolation } from './directory-service.js';
import { userGroups } from './directory-tables.js';
import { assertExtensionFree } from './extension-space.js';
import { loginPassword } from './login-password.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';

/** A user as the API shows it: never a password. */
export interface UserRecord {
  id: string;
  domainId: string;
  domain: string;
  ext: string;
  email: string | undefined;
  name: string | undefined;
  phone: string | undefined;
  desc: string | undefined;
  role: 'owner' | 'admin' | 'agent';
  /** The group the user is a member of (rings with it). */
  group: string | undefined;
  active: boolean;
  createdAt: Date;
  /** Whether the user can sign in (has a login password). */
  canSignIn: boolean;
}

/** Input of {@link UserService.create} (validated by the service). */
export type NewUserInput = z.input<typeof newUserSchema>;
/** Input of {@link UserService.update}. */
export type UserPatch = z.input<typeof userPatchSchema>;

/** Sort keys of the user list. */
export const USER_SORT = ['ext', 'name', 'email', 'role', 'createdAt'] as const;

/** Filters of {@link UserService.list}. */
export interface UserQuery extends PageRequest {
  /** Superadmin only; others are always limited to their own domain. */
  domainId?: string | undefined;
  role?: 'owner' | 'admin' | 'agent' | undefined;
  group?: string | undefined;
  active?: boolean | undefined;
  sort?: (typeof USER_SORT)[number] | undefined;
  order?: 'asc' | 'desc' | undefined;
}

/** Sends mail (see notify/mailer.ts; declared here until that exists). */
export interface Mailer {
  send(msg: { to: string; subject: string; text: string }): Promise<void>;
}

type Row = typeof users.$inferSelect;

/**
 * Users of the domains, with rights enforced per call: managers (owner, admin) manage the users
 * of their domain, an agent only reads and edits its own profile and password, and an admin
 * cannot touch owners nor make anyone owner.
 */
export class UserService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly events: DirectoryEvents,
    private readonly audit: AuditLog,
    private readonly opts: {
      mailer?: Mailer | undefined;
      /** Told the e-mail of a user whose login password was reset (its failed sign-ins are forgotten). */
      onLoginPasswordReset?: ((email: string) => void) | undefined;
    } = {},
  ) {}

  /** One page of users the principal may see (an agent: only itself). */
  async list(p: Principal, q: UserQuery = {}): Promise<Page<UserRecord>> {
    const b = pageBounds(q);
    const domainId = rights.scopeDomain(p, q.domainId);
    const sortCol = {
      ext: users.ext,
      name: users.name,
      email: users.email,
      role: users.role,
      createdAt: users.createdAt,
    }[q.sort ?? 'ext'];
    const where = and(
      domainId === undefined ? undefined : eq(users.domainId, domainId),
      rights.isManager(p) ? undefined : eq(users.id, p.userId ?? '00000000-0000-0000-0000-000000000000'),
      q.role === undefined ? undefined : eq(users.role, q.role),
      // A group "id" that is no UUID names no group (and must not reach a uuid column).
      q.group === undefined ? undefined : isUuid(q.group) ? eq(users.groupId, q.group) : sql`false`,
      q.active === undefined ? undefined : eq(users.active, q.active),
      keywordFilter(q.keyword, [users.ext, users.name, users.email, users.phone, users.description]),
    );
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select({ u: users, domain: domains.domain })
        .from(users)
        .innerJoin(domains, eq(domains.id, users.domainId))
        .where(where)
        .orderBy(q.order === 'desc' ? desc(sortCol) : asc(sortCol), asc(users.id))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(users).where(where),
    ]);
    return toPage(
      rows.map((r) => toRecord(r.u, r.domain)),
      Number(total?.n ?? 0),
      b,
    );
  }

  /** One user; NOT_FOUND when it does not exist or is outside what the principal may see. */
  async get(p: Principal, id: string): Promise<UserRecord> {
    const { row, domain } = await this.#load(id);
    if (!rights.inDomain(p, row.domainId)) throw DirectoryError.notFound('user');
    if (!rights.isManager(p) && p.userId !== id) throw DirectoryError.notFound('user');
    return toRecord(row, domain);
  }

  /** Creates a user in `domainId`. Throws VALIDATION, DUPLICATE_EXTENSION, DUPLICATE_EMAIL, FORBIDDEN. */
  async create(p: Principal, domainId: string, input: NewUserInput): Promise<UserRecord> {
    rights.requireManager(p, domainId);
    const v = parseInput(newUserSchema, input);
    rights.requireAssignableRole(p, v.role);
    const [dom] = await this.store.db.select().from(domains).where(eq(domains.id, domainId));
    if (!dom) throw DirectoryError.notFound('domain');
    if (v.group) await this.#requireGroup(domainId, v.group);
    const hash = v.password === undefined ? null : await loginPassword.hash(v.password);
    const row = await this.#write(async (tx) => {
      await assertExtensionFree(tx, domainId, v.ext, dom.domain);
      const [r] = await tx
        .insert(users)
        .values({
          domainId,
          ext: v.ext,
          sipPasswordEnc: this.secrets.seal(v.extPassword),
          email: v.email ?? null,
          name: v.name || null,
          phone: v.phone || null,
          description: v.desc || null,
          role: v.role,
          loginPasswordHash: hash,
          groupId: v.group ?? null,
          active: v.active,
        })
        .returning();
      return r!;
    }, v);
    await this.audit.record(p, {
      action: 'create',
      resource: 'user',
      resourceId: row.id,
      domainId,
      detail: { ext: row.ext, email: row.email, role: row.role },
    });
    this.events.changed({ type: 'user.created', domainId, domain: dom.domain, id: row.id });
    return toRecord(row, dom.domain);
  }

  /** Changes a user. Agents may change only their own name, phone, desc and password. */
  async update(p: Principal, id: string, patch: UserPatch): Promise<UserRecord> {
    const current = await this.#loadVisible(p, id);
    const v = parseInput(userPatchSchema, patch);
    const changed = Object.keys(v).filter((k) => v[k as keyof typeof v] !== undefined);
    if (!rights.isManager(p)) {
      const allowed = new Set(['name', 'phone', 'desc', 'password']);
      const denied = changed.filter((k) => !allowed.has(k));
      if (denied.length > 0) throw DirectoryError.forbidden(`you may not change ${denied.join(', ')}`);
    } else {
      this.#requireMayManage(p, current.row);
      if (v.role !== undefined) rights.requireAssignableRole(p, v.role);
    }
    const domainId = current.row.domainId;
    if (v.group) await this.#requireGroup(domainId, v.group);
    const set: Partial<typeof users.$inferInsert> = {};
    if (v.ext !== undefined) set.ext = v.ext;
    if (v.extPassword !== undefined) set.sipPasswordEnc = this.secrets.seal(v.extPassword);
    if (v.email !== undefined) set.email = v.email;
    if (v.name !== undefined) set.name = v.name || null;
    if (v.phone !== undefined) set.phone = v.phone || null;
    if (v.desc !== undefined) set.description = v.desc || null;
    if (v.role !== undefined) set.role = v.role;
    if (v.group !== undefined) set.groupId = v.group;
    if (v.active !== undefined) set.active = v.active;
    if (v.password !== undefined) set.loginPasswordHash = await loginPassword.hash(v.password);
    if (Object.keys(set).length === 0) return toRecord(current.row, current.domain);
    const row = await this.#write(async (tx) => {
      if (v.ext !== undefined && v.ext !== current.row.ext)
        await assertExtensionFree(tx, domainId, v.ext, current.domain, { kind: 'user', id });
      const [r] = await tx.update(users).set(set).where(eq(users.id, id)).returning();
      if (!r) throw DirectoryError.notFound('user');
      return r;
    }, v);
    await this.audit.record(p, {
      action: 'update',
      resource: 'user',
      resourceId: id,
      domainId,
      detail: { fields: changed },
    });
    this.events.changed({ type: 'user.updated', domainId, domain: current.domain, id });
    return toRecord(row, current.domain);
  }

  /** Deletes a user (managers only; an admin cannot delete an owner, nobody deletes themselves). */
  async delete(p: Principal, id: string): Promise<void> {
    const current = await this.#loadVisible(p, id);
    if (!rights.isManager(p)) throw DirectoryError.forbidden();
    this.#requireMayManage(p, current.row);
    if (p.userId === id) throw new DirectoryError('CONFLICT', 'you cannot delete your own account');
    await this.store.db.delete(users).where(eq(users.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'user',
      resourceId: id,
      domainId: current.row.domainId,
      detail: { ext: current.row.ext },
    });
    this.events.changed({ type: 'user.deleted', domainId: current.row.domainId, domain: current.domain, id });
  }

  /**
   * Sets a random login password and mails it to the user. Managers for their users, or the user
   * itself. Needs a mailer and an e-mail address (CONFLICT / VALIDATION otherwise, nothing changed).
   */
  async resetPassword(p: Principal, id: string): Promise<{ mailedTo: string }> {
    const current = await this.#loadVisible(p, id);
    if (p.userId !== id) this.#requireMayManage(p, current.row);
    const mailer = this.opts.mailer;
    if (!mailer) throw new DirectoryError('CONFLICT', 'mail is not configured on this server (HANDSET_SMTP_URL)');
    const to = current.row.email;
    if (!to) throw DirectoryError.validation({ email: 'the user has no e-mail address to send a new password to' });
    const password = randomBytes(12).toString('base64url');
    await mailer.send({
      to,
      subject: 'Your new Handset password',
      text: `A new sign-in password was set for ${to} (extension ${current.row.ext}@${current.domain}):\n\n${password}\n\nChange it after signing in.\n`,
    });
    // Stored only once the mail went out, so a failed send leaves the old password working.
    await this.store.db
      .update(users)
      .set({ loginPasswordHash: await loginPassword.hash(password) })
      .where(eq(users.id, id));
    this.opts.onLoginPasswordReset?.(to);
    await this.audit.record(p, {
      action: 'reset-password',
      resource: 'user',
      resourceId: id,
      domainId: current.row.domainId,
    });
    return { mailedTo: to };
  }

  /** The user's SIP password (for configuring a phone): the user itself or a manager of the domain. */
  async getSipPassword(p: Principal, id: string): Promise<string> {
    const current = await this.#loadVisible(p, id);
    if (p.userId !== id) this.#requireMayManage(p, current.row);
    return this.secrets.open(current.row.sipPasswordEnc);
  }

  /** The user row for a sign-in attempt by e-mail (no principal: this is how one is obtained). */
  async findForSignIn(email: string): Promise<{ row: Row; domain: string; domainActive: boolean } | undefined> {
    const [r] = await this.store.db
      .select({ u: users, domain: domains.domain, domainActive: domains.active })
      .from(users)
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(eq(users.email, email.trim().toLowerCase()));
    return r ? { row: r.u, domain: r.domain, domainActive: r.domainActive } : undefined;
  }

  async #load(id: string): Promise<{ row: Row; domain: string }> {
    if (!isUuid(id)) throw DirectoryError.notFound('user');
    const [r] = await this.store.db
      .select({ u: users, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(eq(users.id, id));
    if (!r) throw DirectoryError.notFound('user');
    return { row: r.u, domain: r.domain };
  }

  async #loadVisible(p: Principal, id: string): Promise<{ row: Row; domain: string }> {
    const r = await this.#load(id);
    if (!rights.inDomain(p, r.row.domainId)) throw DirectoryError.notFound('user');
    if (!rights.isManager(p) && p.userId !== id) throw DirectoryError.notFound('user');
    return r;
  }

  #requireMayManage(p: Principal, target: Row): void {
    rights.requireManager(p, target.domainId);
    if (p.role === 'admin' && target.role === 'owner')
      throw DirectoryError.forbidden('an admin cannot change an owner');
  }

  async #requireGroup(domainId: string, groupId: string): Promise<void> {
    const [g] = await this.store.db
      .select({ id: userGroups.id })
      .from(userGroups)
      .where(and(eq(userGroups.id, groupId), eq(userGroups.domainId, domainId)));
    if (!g) throw DirectoryError.validation({ group: 'no such group in this domain' });
  }

  /** Runs a write in a transaction, mapping unique violations to DUPLICATE_EMAIL / DUPLICATE_EXTENSION. */
  async #write<T>(
    fn: (tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0]) => Promise<T>,
    v: { ext?: string | undefined; email?: string | null | undefined },
  ): Promise<T> {
    try {
      return await this.store.db.transaction(fn);
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === 'users_email_key')
        throw new DirectoryError('DUPLICATE_EMAIL', `email ${v.email} is already used by another user`, { cause: err });
      if (constraint)
        throw new DirectoryError('DUPLICATE_EXTENSION', `extension ${v.ext} already exists`, { cause: err });
      throw err;
    }
  }
}

/** True for a syntactically valid UUID (anything else cannot name a record, and would make PostgreSQL fail). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

function toRecord(r: Row, domain: string): UserRecord {
  return {
    id: r.id,
    domainId: r.domainId,
    domain,
    ext: r.ext,
    email: r.email ?? undefined,
    name: r.name ?? undefined,
    phone: r.phone ?? undefined,
    desc: r.description ?? undefined,
    role: r.role,
    group: r.groupId ?? undefined,
    active: r.active,
    createdAt: r.createdAt,
    canSignIn: r.loginPasswordHash !== null,
  };
}
