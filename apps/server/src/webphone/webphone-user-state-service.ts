import { and, eq, gte, inArray, ne, or, sql } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { directoryRights as rights } from '../directory/directory-rights.js';
import type { Principal } from '../directory/principal.js';
import type { GroupResolver, RingGroup } from '../proxy/proxy-core.js';
import { cdrs, domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { webphoneUserState, type AgentState } from './webphone-tables.js';

/** Today's calls of one agent, from the CDRs. */
export interface AgentCounters {
  /** Calls it placed or was called in since `since`. */
  total: number;
  outgoing: number;
  incoming: number;
  answered: number;
  /** Incoming calls it did not answer. */
  missed: number;
  /** Seconds talked (answered calls). */
  talkS: number;
  since: string;
}

/** A user's balance, as billing provided it. */
export interface Balance {
  balance: number | null;
  currency: string | null;
}

/**
 * Per-user web phone state: the agent status (kept server-side so a reload keeps it, and read by
 * the proxy so that only available agents ring for group calls), a balance provided through the
 * API, and the agent's call counters from the CDRs.
 */
export class WebphoneUserStateService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /** The caller's own status (`available` until it changes it). */
  async agentState(p: Principal & { userId: string }): Promise<AgentState> {
    const [row] = await this.store.db
      .select({ s: webphoneUserState.agentState })
      .from(webphoneUserState)
      .where(eq(webphoneUserState.userId, p.userId));
    return row?.s ?? 'available';
  }

  /** Sets the caller's own status. */
  async setAgentState(p: Principal & { userId: string; domainId: string }, state: AgentState): Promise<AgentState> {
    await this.store.db
      .insert(webphoneUserState)
      .values({ userId: p.userId, domainId: p.domainId, agentState: state })
      .onConflictDoUpdate({
        target: webphoneUserState.userId,
        set: { agentState: state, updatedAt: sql`now()` },
      });
    await this.audit.record(p, {
      action: 'update',
      resource: 'agent-state',
      resourceId: p.userId,
      domainId: p.domainId,
      detail: { state },
    });
    return state;
  }

  /** A user's balance (the user itself, or a manager of its domain). */
  async balance(p: Principal, userId: string): Promise<Balance> {
    await this.#requireVisible(p, userId, false);
    const [row] = await this.store.db
      .select({ balance: webphoneUserState.balance, currency: webphoneUserState.currency })
      .from(webphoneUserState)
      .where(eq(webphoneUserState.userId, userId));
    return { balance: row?.balance ?? null, currency: row?.currency ?? null };
  }

  /** Sets (or with null clears) a user's balance: owners and admins of its domain, or a superadmin. */
  async setBalance(p: Principal, userId: string, b: Balance): Promise<Balance> {
    const domainId = await this.#requireVisible(p, userId, true);
    await this.store.db
      .insert(webphoneUserState)
      .values({ userId, domainId, balance: b.balance, currency: b.currency })
      .onConflictDoUpdate({
        target: webphoneUserState.userId,
        set: { balance: b.balance, currency: b.currency, updatedAt: sql`now()` },
      });
    await this.audit.record(p, {
      action: 'update',
      resource: 'balance',
      resourceId: userId,
      domainId,
      detail: { balance: b.balance, currency: b.currency },
    });
    return b;
  }

  /** The caller's calls since `since` (as `ext@domain`, caller or callee). */
  async counters(p: Principal & { userId: string }, since: Date): Promise<AgentCounters> {
    const [me] = await this.store.db
      .select({ ext: users.ext, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(eq(users.id, p.userId));
    if (!me) throw DirectoryError.notFound('user');
    const aor = `${me.ext}@${me.domain}`;
    const [row] = await this.store.db
      .select({
        total: sql<number>`count(*)::int`,
        outgoing: sql<number>`count(*) filter (where ${cdrs.caller} = ${aor})::int`,
        incoming: sql<number>`count(*) filter (where ${cdrs.callee} = ${aor})::int`,
        answered: sql<number>`count(*) filter (where ${cdrs.disposition} = 'answered')::int`,
        missed: sql<number>`count(*) filter (where ${cdrs.callee} = ${aor} and ${cdrs.disposition} <> 'answered')::int`,
        talkS: sql<number>`coalesce(sum(${cdrs.billableS}), 0)::float8`,
      })
      .from(cdrs)
      .where(
        and(eq(cdrs.domain, me.domain), gte(cdrs.startedAt, since), or(eq(cdrs.caller, aor), eq(cdrs.callee, aor))),
      );
    return {
      total: Number(row?.total ?? 0),
      outgoing: Number(row?.outgoing ?? 0),
      incoming: Number(row?.incoming ?? 0),
      answered: Number(row?.answered ?? 0),
      missed: Number(row?.missed ?? 0),
      talkS: Math.round(Number(row?.talkS ?? 0)),
      since: since.toISOString(),
    };
  }

  /** Extensions of `domain` among `exts` whose status is not `available`. */
  async unavailable(domain: string, exts: readonly string[]): Promise<Set<string>> {
    if (exts.length === 0) return new Set();
    const rows = await this.store.db
      .select({ ext: users.ext })
      .from(webphoneUserState)
      .innerJoin(users, eq(users.id, webphoneUserState.userId))
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(
        and(
          eq(domains.domain, domain.toLowerCase()),
          inArray(users.ext, [...exts]),
          ne(webphoneUserState.agentState, 'available'),
        ),
      );
    return new Set(rows.map((r) => r.ext));
  }

  /** The user's domain, when `p` may see it (and manage it, with `manage`); NOT_FOUND / FORBIDDEN otherwise. */
  async #requireVisible(p: Principal, userId: string, manage: boolean): Promise<string> {
    const [u] = await this.store.db.select({ domainId: users.domainId }).from(users).where(eq(users.id, userId));
    if (!u || !rights.inDomain(p, u.domainId)) throw DirectoryError.notFound('user');
    if (manage) rights.requireManager(p, u.domainId);
    else if (!rights.isManager(p) && p.userId !== userId) throw DirectoryError.notFound('user');
    return u.domainId;
  }
}

/**
 * A {@link GroupResolver} that leaves out members who are away, in wrap-up or on do-not-disturb,
 * so a ring group call rings only available agents (all of them gone: the group answers as if
 * nobody were registered).
 */
export function availableMembersOnly(
  inner: GroupResolver,
  state: Pick<WebphoneUserStateService, 'unavailable'>,
): GroupResolver {
  return {
    async resolveGroup(domain: string, ext: string): Promise<RingGroup | undefined> {
      const g = await inner.resolveGroup(domain, ext);
      if (!g) return g;
      const out = await state.unavailable(domain, g.members);
      return out.size === 0 ? g : { ...g, members: g.members.filter((m) => !out.has(m)) };
    },
  };
}
