import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { SecretBox } from '../config/secret-box.js';
import { DirectoryError } from '../directory/directory-error.js';
import { emailSchema, loginPasswordSchema, parseInput, text } from '../directory/directory-schemas.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import { sessions, userGroups } from '../directory/directory-tables.js';
import type { Principal } from '../directory/principal.js';
import { secretToken } from '../directory/secret-token.js';
import { AuthFailureLimiter } from '../registrar/auth-failure-limiter.js';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';

/** Options of {@link WebphoneAccountService}. */
export interface WebphoneAccountOptions {
  store: Store;
  secrets: SecretBox;
  services: Pick<DirectoryServices, 'users' | 'settings' | 'audit'>;
  /** Lifetime of a session it opens (default 12 h, as the e-mail sign-in). */
  sessionTtlMs?: number;
  /** SIP sign-in failures per account before it is locked (default 5 within 15 min, locked 15 min). */
  maxFailuresPerAccount?: number;
  /** SIP sign-in failures per source address before it is locked (default 20 within 15 min). */
  maxFailuresPerAddress?: number;
  lockWindowMs?: number;
  lockMs?: number;
  /** Sign-up attempts per source address (default 5 per hour, then an hour's pause). */
  signUpsPerAddress?: number;
  signUpWindowMs?: number;
  clock?: () => number;
}

/** A session opened by a SIP sign-in or a sign-up. */
export interface WebphoneSession {
  token: string;
  expiresAt: Date;
  ext: string;
  domain: string;
}

/** What the sign-in screen of a domain offers (both false for a domain that does not exist). */
export interface SignInOptions {
  sipLogin: boolean;
  register: boolean;
  /** Only when the domain offers one of the two (then the page is public anyway). */
  brandName?: string;
}

/** `1001@example.com`, optionally with a `sip:` scheme. */
const SIP_ACCOUNT = /^(?:sips?:)?([A-Za-z0-9._+-]{1,32})@([A-Za-z0-9.-]{1,253})$/;
const signUpSchema = z.strictObject({
  name: text(100).pipe(z.string().min(1, 'must not be empty')),
  email: emailSchema,
  password: loginPasswordSchema,
});
/** Compared against when the account does not exist, so both paths do the same work. */
const DUMMY_SECRET = createHash('sha256').update('handset-no-such-account').digest();
const WRONG = 'wrong SIP account or password';

/**
 * The web phone's own ways in: sign-in with extension@domain and the SIP password (only where
 * the domain's `webphone.sip_login` flag is on, only for agents), and self sign-up where
 * `webphone.register` is on. Both open an ordinary login session for that one user.
 */
export class WebphoneAccountService {
  readonly #byAccount: AuthFailureLimiter;
  readonly #byAddress: AuthFailureLimiter;
  readonly #signUps: AuthFailureLimiter;
  readonly #clock: () => number;

  constructor(private readonly o: WebphoneAccountOptions) {
    this.#clock = o.clock ?? Date.now;
    const windowMs = o.lockWindowMs ?? 15 * 60_000;
    const blockMs = o.lockMs ?? 15 * 60_000;
    const clock = this.#clock;
    this.#byAccount = new AuthFailureLimiter({ maxFailures: o.maxFailuresPerAccount ?? 5, windowMs, blockMs, clock });
    this.#byAddress = new AuthFailureLimiter({ maxFailures: o.maxFailuresPerAddress ?? 20, windowMs, blockMs, clock });
    const signUpWindow = o.signUpWindowMs ?? 3600_000;
    this.#signUps = new AuthFailureLimiter({
      maxFailures: o.signUpsPerAddress ?? 5,
      windowMs: signUpWindow,
      blockMs: signUpWindow,
      clock,
    });
  }

  /** The domain named `name` (case-insensitive), if it exists and is active. */
  async findDomain(name: string | undefined): Promise<{ id: string; domain: string } | undefined> {
    if (!name || name.length > 253 || !/^[A-Za-z0-9.-]+$/.test(name)) return undefined;
    const [d] = await this.o.store.db
      .select({ id: domains.id, domain: domains.domain, active: domains.active })
      .from(domains)
      .where(eq(domains.domain, name.toLowerCase()));
    return d?.active ? { id: d.id, domain: d.domain } : undefined;
  }

  /** What the sign-in screen for `domainName` offers. */
  async signInOptions(domainName: string | undefined): Promise<SignInOptions> {
    const d = await this.findDomain(domainName);
    if (!d) return { sipLogin: false, register: false };
    const s = this.o.services.settings;
    const [sipLogin, register] = await Promise.all([
      s.get<boolean>('webphone.sip_login', d.id),
      s.get<boolean>('webphone.register', d.id),
    ]);
    if (!sipLogin && !register) return { sipLogin, register };
    return { sipLogin, register, brandName: await s.get<string>('webphone.brand_name', d.id) };
  }

  /**
   * Checks extension@domain and the SIP password. Unknown account, wrong password, the flag off,
   * a disabled user or one that is not an agent all fail alike (UNAUTHENTICATED); five failures
   * lock the account and twenty the source address (RATE_LIMITED), as the e-mail sign-in does.
   */
  async sipSignIn(input: { account: string; password: string }, address: string): Promise<WebphoneSession> {
    const m = SIP_ACCOUNT.exec(input.account.trim());
    const ext = m?.[1] ?? '';
    const domainName = (m?.[2] ?? '').toLowerCase();
    // Input that names no account counts against the address only.
    const key = m ? `${ext}@${domainName}` : undefined;
    if (this.#byAddress.isBlocked(address) || (key !== undefined && this.#byAccount.isBlocked(key)))
      throw new DirectoryError('RATE_LIMITED', 'too many failed sign-ins; try again later');
    const [row] = m
      ? await this.o.store.db
          .select({ u: users, domain: domains.domain, domainActive: domains.active })
          .from(users)
          .innerJoin(domains, eq(domains.id, users.domainId))
          .where(and(eq(domains.domain, domainName), eq(users.ext, ext)))
      : [];
    const allowed = row ? await this.o.services.settings.get<boolean>('webphone.sip_login', row.u.domainId) : false;
    const stored = row ? this.#openSecret(row.u.sipPasswordEnc) : undefined;
    const presented = createHash('sha256').update(input.password, 'utf8').digest();
    const same = timingSafeEqual(
      presented,
      stored === undefined ? DUMMY_SECRET : createHash('sha256').update(stored, 'utf8').digest(),
    );
    const ok = row && stored !== undefined && same && allowed && row.u.active && row.domainActive;
    // Owners and admins manage the domain: a SIP password (shared with desk phones) does not open that.
    if (!ok || row.u.role !== 'agent') {
      if (key !== undefined) this.#byAccount.recordFailure(key);
      this.#byAddress.recordFailure(address);
      throw new DirectoryError('UNAUTHENTICATED', WRONG);
    }
    this.#byAccount.recordSuccess(key!);
    this.#byAddress.recordSuccess(address);
    const principal = userPrincipal(row.u, row.domain);
    const session = await this.#openSession(row.u.id, row.u.ext, row.domain);
    await this.o.services.audit.record(principal, {
      action: 'login',
      resource: 'session',
      domainId: row.u.domainId,
      detail: { method: 'sip-password' },
    });
    return session;
  }

  /**
   * Creates an agent in `domainName` from name, e-mail and password, with the next free extension
   * and a generated SIP password, and signs it in. FORBIDDEN when the domain does not exist or does
   * not offer sign-up (one answer for both); every attempt counts against the source address.
   */
  async signUp(domainName: string | undefined, input: unknown, address: string): Promise<WebphoneSession> {
    if (this.#signUps.isBlocked(address))
      throw new DirectoryError('RATE_LIMITED', 'too many sign-ups from this address; try again later');
    this.#signUps.recordFailure(address);
    const d = await this.findDomain(domainName);
    const on = d ? await this.o.services.settings.get<boolean>('webphone.register', d.id) : false;
    if (!d || !on) throw new DirectoryError('FORBIDDEN', 'self sign-up is not offered here');
    const v = parseInput(signUpSchema, input);
    // Acts as the domain's sign-up desk: a manager that may create agents, nothing more.
    const desk: Principal = {
      userId: undefined,
      email: v.email,
      role: 'admin',
      domainId: d.id,
      domain: d.domain,
      via: 'session',
    };
    const range = await this.o.services.settings.get<string>('webphone.register_ext_range', d.id);
    for (let attempt = 0; ; attempt++) {
      const ext = await this.#nextFreeExtension(d.id, range);
      try {
        const user = await this.o.services.users.create(desk, d.id, {
          ext,
          extPassword: randomBytes(18).toString('base64url'),
          email: v.email,
          name: v.name,
          password: v.password,
          role: 'agent',
        });
        await this.o.services.audit.record(userPrincipal(user, d.domain), {
          action: 'sign-up',
          resource: 'user',
          resourceId: user.id,
          domainId: d.id,
          detail: { ext, email: v.email, address },
        });
        return await this.#openSession(user.id, user.ext, d.domain);
      } catch (err) {
        // Two sign-ups at once may pick the same number: take the next one.
        if (err instanceof DirectoryError && err.code === 'DUPLICATE_EXTENSION' && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** The lowest free extension of `range` ("2000-2999"), or the one above the highest numeric extension. */
  async #nextFreeExtension(domainId: string, range: string): Promise<string> {
    const db = this.o.store.db;
    const [u, g] = await Promise.all([
      db.select({ ext: users.ext }).from(users).where(eq(users.domainId, domainId)),
      db.select({ ext: userGroups.ext }).from(userGroups).where(eq(userGroups.domainId, domainId)),
    ]);
    const taken = new Set([...u, ...g].map((r) => r.ext));
    if (range) {
      const [lo, hi] = range.split('-').map(Number) as [number, number];
      for (let n = lo; n <= hi; n++) if (!taken.has(String(n))) return String(n);
      throw new DirectoryError('CONFLICT', 'no free extension is left for sign-up in this domain');
    }
    const numeric = [...taken].filter((e) => /^\d{1,9}$/.test(e)).map(Number);
    return String(numeric.length === 0 ? 1000 : Math.max(...numeric) + 1);
  }

  #openSecret(sealed: string): string | undefined {
    try {
      return this.o.secrets.open(sealed);
    } catch {
      return undefined;
    }
  }

  async #openSession(userId: string, ext: string, domain: string): Promise<WebphoneSession> {
    const secret = secretToken.create('session');
    const expiresAt = new Date(this.#clock() + (this.o.sessionTtlMs ?? 12 * 3600_000));
    await this.o.store.db.insert(sessions).values({ userId, tokenHash: secret.hash, expiresAt });
    return { token: secret.token, expiresAt, ext, domain };
  }
}

function userPrincipal(
  u: { id: string; email: string | null | undefined; role: 'owner' | 'admin' | 'agent'; domainId: string },
  domain: string,
): Principal {
  return { userId: u.id, email: u.email ?? undefined, role: u.role, domainId: u.domainId, domain, via: 'session' };
}
