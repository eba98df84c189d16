import { and, count, desc, eq, isNull, lt, or, type SQL } from 'drizzle-orm';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import { directoryRights as rights } from './directory-rights.js';
import { text } from './directory-schemas.js';
import { apiTokens, superadmins } from './directory-tables.js';
import { pageBounds, toPage, type Page, type PageRequest } from './paged-list.js';
import type { Principal } from './principal.js';
import { secretToken } from './secret-token.js';
import { isUuid } from './user-service.js';

/** An API token as listed: never the secret. */
export interface TokenRecord {
  id: string;
  name: string;
  /** First characters of the secret, to tell tokens apart. */
  prefix: string;
  /** The owning user (or superadmin) id and e-mail. */
  ownerId: string;
  ownerEmail: string | undefined;
  domainId: string | undefined;
  createdAt: Date;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
}

/** `last_used_at` is written at most this often per token, so authenticating is not a write per request. */
const LAST_USED_GRANULARITY_MS = 60_000;

const nameSchema = text(100).min(1, 'must not be empty');

/**
 * API tokens: created for a user (they act with that user's role and domain), shown once, stored
 * as a SHA-256, revocable. Owners manage the tokens of their domain; a superadmin all of them.
 */
export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Creates a token for the user (or superadmin account) `ownerId`; the secret is in the result
   * and nowhere else.
   */
  async create(p: Principal, ownerId: string, name: string): Promise<{ token: string; record: TokenRecord }> {
    const parsedName = nameSchema.safeParse(name);
    if (!parsedName.success) throw DirectoryError.validation({ name: parsedName.error.issues[0]!.message });
    const owner = await this.#owner(ownerId);
    if (!owner) throw DirectoryError.notFound('user');
    if (owner.kind === 'superadmin') rights.requireSuperadmin(p);
    else rights.requireOwner(p, owner.domainId ?? '');
    const secret = secretToken.create('api');
    const [row] = await this.store.db
      .insert(apiTokens)
      .values({
        ...(owner.kind === 'user' ? { userId: ownerId } : { superadminId: ownerId }),
        name: parsedName.data,
        tokenHash: secret.hash,
        prefix: secret.prefix,
      })
      .returning();
    await this.audit.record(p, {
      action: 'create',
      resource: 'token',
      resourceId: row!.id,
      domainId: owner.domainId,
      detail: { owner: owner.email, name: parsedName.data },
    });
    return { token: secret.token, record: toRecord(row!, owner.email, owner.domainId) };
  }

  /** Creates a token for the account with this e-mail (the CLI's `tokens create <email>`). */
  async createForEmail(p: Principal, email: string, name = 'cli'): Promise<{ token: string; record: TokenRecord }> {
    const e = email.trim().toLowerCase();
    const [sa] = await this.store.db.select({ id: superadmins.id }).from(superadmins).where(eq(superadmins.email, e));
    const [u] = sa ? [] : await this.store.db.select({ id: users.id }).from(users).where(eq(users.email, e));
    const id = sa?.id ?? u?.id;
    if (!id) throw new DirectoryError('NOT_FOUND', `no user with e-mail ${e.slice(0, 254)}`);
    return this.create(p, id, name);
  }

  /** Tokens the principal may see: of its domain (owner) or all (superadmin), newest first. */
  async list(
    p: Principal,
    q: PageRequest & { domainId?: string | undefined; includeRevoked?: boolean } = {},
  ): Promise<Page<TokenRecord>> {
    if (p.role !== 'superadmin') rights.requireOwner(p, p.domainId ?? '');
    const domainId = rights.scopeDomain(p, q.domainId);
    const b = pageBounds(q);
    const where: SQL | undefined = and(
      domainId === undefined ? undefined : eq(users.domainId, domainId),
      q.includeRevoked ? undefined : isNull(apiTokens.revokedAt),
    );
    const db = this.store.db;
    const [rows, [total]] = await Promise.all([
      db
        .select({ t: apiTokens, userEmail: users.email, domainId: users.domainId, saEmail: superadmins.email })
        .from(apiTokens)
        .leftJoin(users, eq(users.id, apiTokens.userId))
        .leftJoin(superadmins, eq(superadmins.id, apiTokens.superadminId))
        .where(where)
        .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id))
        .limit(b.limit)
        .offset(b.offset),
      db.select({ n: count() }).from(apiTokens).leftJoin(users, eq(users.id, apiTokens.userId)).where(where),
    ]);
    return toPage(
      rows.map((r) => toRecord(r.t, r.userEmail ?? r.saEmail ?? undefined, r.domainId ?? undefined)),
      Number(total?.n ?? 0),
      b,
    );
  }

  /** Revokes a token (it stops working at once). */
  async revoke(p: Principal, id: string): Promise<void> {
    if (!isUuid(id)) throw DirectoryError.notFound('token');
    const [row] = await this.store.db
      .select({ t: apiTokens, domainId: users.domainId })
      .from(apiTokens)
      .leftJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.id, id));
    if (!row) throw DirectoryError.notFound('token');
    if (row.domainId === null) rights.requireSuperadmin(p);
    else if (!rights.inDomain(p, row.domainId)) throw DirectoryError.notFound('token');
    else rights.requireOwner(p, row.domainId);
    await this.store.db
      .update(apiTokens)
      .set({ revokedAt: new Date(this.clock()) })
      .where(eq(apiTokens.id, id));
    await this.audit.record(p, {
      action: 'revoke',
      resource: 'token',
      resourceId: id,
      domainId: row.domainId ?? undefined,
    });
  }

  /** The principal a presented API token stands for, or undefined (unknown, revoked, owner inactive). */
  async resolve(token: string): Promise<Principal | undefined> {
    const hash = secretToken.hash(token);
    const [row] = await this.store.db
      .select({
        t: apiTokens,
        user: users,
        domain: domains.domain,
        domainActive: domains.active,
        sa: superadmins,
      })
      .from(apiTokens)
      .leftJoin(users, eq(users.id, apiTokens.userId))
      .leftJoin(domains, eq(domains.id, users.domainId))
      .leftJoin(superadmins, eq(superadmins.id, apiTokens.superadminId))
      .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
    if (!row) return undefined;
    const now = this.clock();
    if (!row.t.lastUsedAt || now - row.t.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
      await this.store.db
        .update(apiTokens)
        .set({ lastUsedAt: new Date(now) })
        .where(
          and(
            eq(apiTokens.id, row.t.id),
            or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(now - LAST_USED_GRANULARITY_MS))),
          ),
        );
    }
    if (row.sa) {
      if (!row.sa.active) return undefined;
      return {
        userId: row.sa.id,
        email: row.sa.email,
        role: 'superadmin',
        domainId: undefined,
        domain: undefined,
        via: 'token',
        tokenId: row.t.id,
      };
    }
    if (!row.user || !row.user.active || !row.domainActive) return undefined;
    return {
      userId: row.user.id,
      email: row.user.email ?? undefined,
      role: row.user.role,
      domainId: row.user.domainId,
      domain: row.domain ?? undefined,
      via: 'token',
      tokenId: row.t.id,
    };
  }

  async #owner(
    id: string,
  ): Promise<{ kind: 'user' | 'superadmin'; domainId: string | undefined; email: string | undefined } | undefined> {
    if (!isUuid(id)) return undefined;
    const [u] = await this.store.db
      .select({ domainId: users.domainId, email: users.email })
      .from(users)
      .where(eq(users.id, id));
    if (u) return { kind: 'user', domainId: u.domainId, email: u.email ?? undefined };
    const [s] = await this.store.db
      .select({ email: superadmins.email })
      .from(superadmins)
      .where(eq(superadmins.id, id));
    return s ? { kind: 'superadmin', domainId: undefined, email: s.email } : undefined;
  }
}

function toRecord(
  r: typeof apiTokens.$inferSelect,
  email: string | undefined,
  domainId: string | undefined,
): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    ownerId: (r.userId ?? r.superadminId)!,
    ownerEmail: email,
    domainId,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt ?? undefined,
    revokedAt: r.revokedAt ?? undefined,
  };
}
