import { and, eq, gt, lt } from 'drizzle-orm';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import { emailSchema, loginPasswordSchema, parseInput, text } from './directory-schemas.js';
import { uniqueViolation } from './directory-service.js';
import { sessions, superadmins } from './directory-tables.js';
import { loginPassword } from './login-password.js';
import { type LoginThrottle, MemoryLoginThrottle } from './login-throttle.js';
import { CLI_PRINCIPAL, type Principal } from './principal.js';
import { secretToken } from './secret-token.js';
import { z } from 'zod';

/** Options of {@link SessionService}. */
export interface SessionServiceOptions {
  /** Lifetime of a login session (default 12 h). */
  sessionTtlMs?: number;
  /** Wrong passwords for one e-mail from one address before that address must wait (default 3; then 1 s, 2 s, 4 s ... 15 min). */
  freeFailures?: number;
  /** Failed sign-ins from one address, over all accounts, before it is locked (default 20 within 15 min). */
  maxFailuresPerAddress?: number;
  lockWindowMs?: number;
  lockMs?: number;
  /** A shared throttle (default: in memory, built from the options above). */
  throttle?: LoginThrottle;
  clock?: () => number;
}

/** A successful sign-in. */
export interface SignIn {
  token: string;
  expiresAt: Date;
  principal: Principal;
}

const signInSchema = z.strictObject({ email: emailSchema, password: z.string().min(1).max(256) });

/**
 * Sign-in with e-mail and password (users with a login password, and superadmins), login sessions
 * (hashed, expiring), throttling of failures per account and address together with a hard limit per
 * address (see LoginThrottle: nobody can lock an owner out by knowing the e-mail), and creation of
 * superadmin accounts.
 */
export class SessionService {
  readonly #throttle: LoginThrottle;
  readonly #clock: () => number;
  readonly #ttl: number;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    opts: SessionServiceOptions = {},
  ) {
    this.#clock = opts.clock ?? Date.now;
    this.#ttl = opts.sessionTtlMs ?? 12 * 3600_000;
    this.#throttle =
      opts.throttle ??
      new MemoryLoginThrottle({
        freeFailures: opts.freeFailures,
        maxFailuresPerSource: opts.maxFailuresPerAddress,
        windowMs: opts.lockWindowMs,
        blockMs: opts.lockMs,
        clock: this.#clock,
      });
  }

  /** After a password reset: the account's failed sign-ins are forgotten (from every address). */
  forgetFailures(email: string): void {
    this.#throttle.forgetAccount(email.trim().toLowerCase());
  }

  /**
   * Checks e-mail and password and opens a session. Unknown account and wrong password look the
   * same (UNAUTHENTICATED, same work done); a locked account or address is RATE_LIMITED.
   */
  async signIn(input: unknown, address: string): Promise<SignIn> {
    const v = parseInput(signInSchema, input);
    const verdict = this.#throttle.check(v.email, address);
    if (!verdict.allowed) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      throw new DirectoryError('RATE_LIMITED', `too many failed sign-ins; try again in ${seconds} s`);
    }
    const account = await this.#account(v.email);
    const ok = account?.hash
      ? await loginPassword.verify(v.password, account.hash)
      : (await loginPassword.dummyVerify(v.password), false);
    if (!ok || !account || !account.active) {
      this.#throttle.recordFailure(v.email, address);
      throw new DirectoryError('UNAUTHENTICATED', 'wrong e-mail or password');
    }
    this.#throttle.recordSuccess(v.email, address);
    const secret = secretToken.create('session');
    const expiresAt = new Date(this.#clock() + this.#ttl);
    await this.store.db.insert(sessions).values({
      ...(account.principal.role === 'superadmin'
        ? { superadminId: account.principal.userId! }
        : { userId: account.principal.userId! }),
      tokenHash: secret.hash,
      expiresAt,
    });
    const principal = { ...account.principal, via: 'session' as const };
    await this.audit.record(principal, { action: 'login', resource: 'session', domainId: principal.domainId });
    // Expired sessions are swept now and then rather than by a timer.
    if (Math.random() < 0.05)
      await this.store.db.delete(sessions).where(lt(sessions.expiresAt, new Date(this.#clock())));
    return { token: secret.token, expiresAt, principal };
  }

  /** The principal of a live session token, or undefined. */
  async resolve(token: string): Promise<Principal | undefined> {
    const [row] = await this.store.db
      .select({ s: sessions, user: users, domain: domains.domain, domainActive: domains.active, sa: superadmins })
      .from(sessions)
      .leftJoin(users, eq(users.id, sessions.userId))
      .leftJoin(domains, eq(domains.id, users.domainId))
      .leftJoin(superadmins, eq(superadmins.id, sessions.superadminId))
      .where(and(eq(sessions.tokenHash, secretToken.hash(token)), gt(sessions.expiresAt, new Date(this.#clock()))));
    if (!row) return undefined;
    if (row.sa) return row.sa.active ? superPrincipal(row.sa, 'session') : undefined;
    if (!row.user?.active || !row.domainActive) return undefined;
    return userPrincipal(row.user, row.domain ?? undefined, 'session');
  }

  /** Ends a session (logout). Unknown tokens are ignored. */
  async signOut(token: string): Promise<void> {
    await this.store.db.delete(sessions).where(eq(sessions.tokenHash, secretToken.hash(token)));
  }

  /** Creates a superadmin account (CLI only). DUPLICATE_EMAIL if the address is taken. */
  async createSuperadmin(
    p: Principal,
    input: { email: string; password: string; name?: string | undefined },
  ): Promise<{ id: string; email: string }> {
    if (p.role !== 'superadmin') throw DirectoryError.forbidden('only a superadmin may create superadmins');
    const v = parseInput(
      z.strictObject({ email: emailSchema, password: loginPasswordSchema, name: text(200).optional() }),
      input,
    );
    const [clash] = await this.store.db.select({ id: users.id }).from(users).where(eq(users.email, v.email));
    if (clash) throw new DirectoryError('DUPLICATE_EMAIL', `email ${v.email} is already used by a user`);
    try {
      const [row] = await this.store.db
        .insert(superadmins)
        .values({ email: v.email, name: v.name || null, loginPasswordHash: await loginPassword.hash(v.password) })
        .returning();
      await this.audit.record(p, {
        action: 'create',
        resource: 'superadmin',
        resourceId: row!.id,
        detail: { email: v.email },
      });
      return { id: row!.id, email: row!.email };
    } catch (err) {
      if (uniqueViolation(err))
        throw new DirectoryError('DUPLICATE_EMAIL', `email ${v.email} is already a superadmin`, { cause: err });
      throw err;
    }
  }

  async #account(email: string): Promise<{ hash: string | null; active: boolean; principal: Principal } | undefined> {
    const [sa] = await this.store.db.select().from(superadmins).where(eq(superadmins.email, email));
    if (sa) return { hash: sa.loginPasswordHash, active: sa.active, principal: superPrincipal(sa, 'session') };
    const [u] = await this.store.db
      .select({ u: users, domain: domains.domain, domainActive: domains.active })
      .from(users)
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(eq(users.email, email));
    if (!u) return undefined;
    return {
      hash: u.u.loginPasswordHash,
      active: u.u.active && u.domainActive,
      principal: userPrincipal(u.u, u.domain, 'session'),
    };
  }
}

function superPrincipal(sa: typeof superadmins.$inferSelect, via: Principal['via']): Principal {
  return { ...CLI_PRINCIPAL, userId: sa.id, email: sa.email, via };
}

function userPrincipal(u: typeof users.$inferSelect, domain: string | undefined, via: Principal['via']): Principal {
  return { userId: u.id, email: u.email ?? undefined, role: u.role, domainId: u.domainId, domain, via };
}
