import { and, asc, count, eq, inArray, isNotNull } from 'drizzle-orm';
import type { SecretBox } from '../config/secret-box.js';
import { verifyKeyId } from '../store/key-check.js';
import { domains, users } from '../store/schema.js';
import type { Store, Transaction } from '../store/store.js';
import { DirectoryError } from './directory-error.js';
import { userGroups } from './directory-tables.js';
import type { Domain, DomainSummary, NewUser, SipCredentials, User } from './directory-types.js';
import { directoryValidation as v } from './directory-validation.js';
import { parseUserCsv } from './user-csv.js';

/** Rows per multi-row INSERT (7 parameters each: well under PostgreSQL's 65,535). */
const INSERT_CHUNK = 1000;
/** Values per IN (...) list when checking an import against existing rows. */
const LOOKUP_CHUNK = 1000;

type DomainRow = typeof domains.$inferSelect;
type ChangeListener = (domain?: string) => void;

/**
 * Domains (tenants) and their users. Validates every input, seals SIP passwords with the server
 * key, and answers the SIP side's credential look-ups. Passwords never leave except through
 * {@link getSipCredentials}, and no message includes one.
 */
export class DirectoryService {
  readonly #listeners = new Set<ChangeListener>();

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * Checks that the server key is the one the stored passwords were sealed with (recording it on
   * first use). Call once after opening; throws StoreError KEY_MISMATCH otherwise.
   */
  async verifySecretKey(): Promise<void> {
    await verifyKeyId(this.store, this.secrets.keyId);
  }

  /**
   * Calls `listener` after every change, with the domain changed (caches invalidate on it).
   * Returns a function that unsubscribes.
   */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Creates a domain. Throws DUPLICATE_DOMAIN if it exists, INVALID_INPUT if malformed. */
  async addDomain(domain: string, opts: { name?: string | undefined } = {}): Promise<Domain> {
    const normalized = v.domain(domain);
    const name = v.name(opts.name);
    try {
      const [row] = await this.store.db
        .insert(domains)
        .values({ domain: normalized, name: name ?? null })
        .returning();
      this.#changed(normalized);
      return toDomain(row!);
    } catch (err) {
      if (uniqueViolation(err))
        throw new DirectoryError('DUPLICATE_DOMAIN', `domain ${normalized} already exists`, { cause: err });
      throw err;
    }
  }

  /** The domain, or undefined if there is none by that name. */
  async getDomain(domain: string): Promise<Domain | undefined> {
    const normalized = normalizeLookup(domain);
    if (normalized === undefined) return undefined;
    const [row] = await this.store.db.select().from(domains).where(eq(domains.domain, normalized));
    return row ? toDomain(row) : undefined;
  }

  /** Every domain, by name, with its number of users. */
  async listDomains(): Promise<DomainSummary[]> {
    const rows = await this.store.db
      .select({ d: domains, userCount: count(users.id) })
      .from(domains)
      .leftJoin(users, eq(users.domainId, domains.id))
      .groupBy(domains.id)
      .orderBy(asc(domains.domain));
    return rows.map((r) => ({ ...toDomain(r.d), userCount: Number(r.userCount) }));
  }

  /** True when `domain` is an active domain served here. */
  async isLocalDomain(domain: string): Promise<boolean> {
    const normalized = normalizeLookup(domain);
    if (normalized === undefined) return false;
    const [row] = await this.store.db
      .select({ id: domains.id })
      .from(domains)
      .where(and(eq(domains.domain, normalized), eq(domains.active, true)));
    return row !== undefined;
  }

  /** Creates a user. Throws DOMAIN_NOT_FOUND, DUPLICATE_EXTENSION, DUPLICATE_EMAIL or INVALID_INPUT. */
  async addUser(input: NewUser): Promise<User> {
    const domain = v.domain(input.domain);
    const ext = v.ext(input.ext);
    const password = v.password(input.password);
    const name = v.name(input.name);
    const email = v.email(input.email);
    const domainRow = await this.#requireDomain(this.store.db, domain);
    try {
      const [row] = await this.store.db
        .insert(users)
        .values({
          domainId: domainRow.id,
          ext,
          sipPasswordEnc: this.secrets.seal(password),
          name: name ?? null,
          email: email ?? null,
        })
        .returning();
      this.#changed(domain);
      return toUser(row!, domain);
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === 'users_email_key') {
        throw new DirectoryError('DUPLICATE_EMAIL', `email ${email} is already used by another user`, { cause: err });
      }
      if (constraint)
        throw new DirectoryError('DUPLICATE_EXTENSION', `extension ${ext} already exists in ${domain}`, { cause: err });
      throw err;
    }
  }

  /**
   * Imports users from CSV text (see {@link parseUserCsv}) into one domain, all or nothing: the
   * whole file is validated and checked against existing users first, then written in one
   * transaction with multi-row inserts. Errors name the CSV line (CSV_LINE).
   */
  async importUsers(domain: string, csvText: string): Promise<{ imported: number }> {
    const normalized = v.domain(domain);
    const rows = parseUserCsv(csvText);
    const sealed = rows.map((r) => this.secrets.seal(r.password));
    try {
      await this.store.db.transaction(async (tx) => {
        const domainRow = await this.#requireDomain(tx, normalized);
        const lineOfExt = new Map(rows.map((r) => [r.ext, r.line]));
        for (const chunk of chunks([...lineOfExt.keys()], LOOKUP_CHUNK)) {
          // Users and groups share the number space: a group's extension is taken as well.
          const clash = [
            ...(await tx
              .select({ ext: users.ext })
              .from(users)
              .where(and(eq(users.domainId, domainRow.id), inArray(users.ext, chunk)))),
            ...(await tx
              .select({ ext: userGroups.ext })
              .from(userGroups)
              .where(and(eq(userGroups.domainId, domainRow.id), inArray(userGroups.ext, chunk)))),
          ];
          const first = firstByLine(clash.map((c) => lineOfExt.get(c.ext)!));
          if (first !== undefined) {
            const ext = rows.find((r) => r.line === first)!.ext;
            throw DirectoryError.atLine(
              first,
              'DUPLICATE_EXTENSION',
              `extension ${ext} already exists in ${normalized}`,
            );
          }
        }
        const lineOfEmail = new Map(rows.filter((r) => r.email !== undefined).map((r) => [r.email!, r.line]));
        for (const chunk of chunks([...lineOfEmail.keys()], LOOKUP_CHUNK)) {
          const clash = await tx
            .select({ email: users.email })
            .from(users)
            .where(and(isNotNull(users.email), inArray(users.email, chunk)));
          const first = firstByLine(clash.map((c) => lineOfEmail.get(c.email!)!));
          if (first !== undefined) {
            const email = rows.find((r) => r.line === first)!.email;
            throw DirectoryError.atLine(first, 'DUPLICATE_EMAIL', `email ${email} is already used by another user`);
          }
        }
        const values = rows.map((r, i) => ({
          domainId: domainRow.id,
          ext: r.ext,
          sipPasswordEnc: sealed[i]!,
          name: r.name ?? null,
          email: r.email ?? null,
        }));
        for (const chunk of chunks(values, INSERT_CHUNK)) await tx.insert(users).values(chunk);
      });
    } catch (err) {
      if (err instanceof DirectoryError) throw err;
      // A concurrent writer added a clashing user between our check and our insert.
      const constraint = uniqueViolation(err);
      if (constraint === 'users_email_key')
        throw new DirectoryError('DUPLICATE_EMAIL', 'an email in the file was just taken by another user', {
          cause: err,
        });
      if (constraint)
        throw new DirectoryError('DUPLICATE_EXTENSION', `an extension in the file was just added to ${normalized}`, {
          cause: err,
        });
      throw err;
    }
    if (rows.length > 0) this.#changed(normalized);
    return { imported: rows.length };
  }

  /** Users, by domain then extension; of one domain when given (DOMAIN_NOT_FOUND if unknown). */
  async listUsers(filter: { domain?: string | undefined } = {}): Promise<User[]> {
    const db = this.store.db;
    let where;
    if (filter.domain !== undefined) {
      const domainRow = await this.#requireDomain(db, v.domain(filter.domain));
      where = eq(users.domainId, domainRow.id);
    }
    const rows = await db
      .select({ u: users, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(users.domainId, domains.id))
      .where(where)
      .orderBy(asc(domains.domain), asc(users.ext));
    return rows.map((r) => toUser(r.u, r.domain));
  }

  /**
   * One active user of an active domain (with the domain's id), or undefined when either is
   * unknown or inactive: a single indexed look-up, where listUsers reads the whole domain.
   */
  async findActiveUser(domain: string, ext: string): Promise<(User & { domainId: string }) | undefined> {
    const normalized = normalizeLookup(domain);
    if (normalized === undefined) return undefined;
    const [row] = await this.store.db
      .select({ u: users, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(users.domainId, domains.id))
      .where(activeUserOf(normalized, ext));
    return row ? { ...toUser(row.u, row.domain), domainId: row.u.domainId } : undefined;
  }

  /**
   * The decrypted SIP credentials for digest authentication, or undefined when the domain or
   * user is unknown or inactive. Throws CREDENTIALS_UNREADABLE if the stored password cannot be
   * decrypted (the server key changed).
   */
  async getSipCredentials(domain: string, ext: string): Promise<SipCredentials | undefined> {
    const normalized = normalizeLookup(domain);
    if (normalized === undefined) return undefined;
    const [row] = await this.store.db
      .select({ enc: users.sipPasswordEnc, name: users.name })
      .from(users)
      .innerJoin(domains, eq(users.domainId, domains.id))
      .where(activeUserOf(normalized, ext));
    if (!row) return undefined;
    let password: string;
    try {
      password = this.secrets.open(row.enc);
    } catch (err) {
      throw new DirectoryError(
        'CREDENTIALS_UNREADABLE',
        `the SIP password of ${ext}@${normalized} cannot be decrypted (was the server key changed?)`,
        {
          cause: err,
        },
      );
    }
    return { domain: normalized, ext, password, displayName: row.name ?? undefined };
  }

  /**
   * Every active user's SIP credentials (of one domain when given), decrypted, for the SIP
   * side's in-memory cache. Users whose password cannot be decrypted are left out and counted.
   */
  async listSipCredentials(domain?: string): Promise<{ credentials: SipCredentials[]; unreadable: number }> {
    const normalized = domain === undefined ? undefined : normalizeLookup(domain);
    if (domain !== undefined && normalized === undefined) return { credentials: [], unreadable: 0 };
    const rows = await this.store.db
      .select({ enc: users.sipPasswordEnc, name: users.name, ext: users.ext, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(users.domainId, domains.id))
      .where(
        and(
          eq(domains.active, true),
          eq(users.active, true),
          normalized === undefined ? undefined : eq(domains.domain, normalized),
        ),
      );
    const credentials: SipCredentials[] = [];
    let unreadable = 0;
    for (const r of rows) {
      try {
        credentials.push({
          domain: r.domain,
          ext: r.ext,
          password: this.secrets.open(r.enc),
          displayName: r.name ?? undefined,
        });
      } catch {
        unreadable++;
      }
    }
    return { credentials, unreadable };
  }

  /** Names of the active domains. */
  async listActiveDomainNames(): Promise<string[]> {
    const rows = await this.store.db.select({ domain: domains.domain }).from(domains).where(eq(domains.active, true));
    return rows.map((r) => r.domain);
  }

  async #requireDomain(db: Store['db'] | Transaction, domain: string): Promise<DomainRow> {
    const [row] = await db.select().from(domains).where(eq(domains.domain, domain));
    if (!row) throw new DirectoryError('DOMAIN_NOT_FOUND', `unknown domain ${domain}`);
    return row;
  }

  #changed(domain: string): void {
    for (const l of this.#listeners) {
      try {
        l(domain);
      } catch {
        // A failing listener must not undo or fail a committed change.
      }
    }
  }
}

/** Normalizes a domain for look-ups; undefined when it cannot be a valid domain. */
function normalizeLookup(domain: string): string | undefined {
  try {
    return v.domain(domain);
  } catch {
    return undefined;
  }
}

function toDomain(r: DomainRow): Domain {
  return { id: r.id, domain: r.domain, name: r.name ?? undefined, active: r.active, createdAt: r.createdAt };
}

/** The user `ext` of the (normalized) domain, both active; for a users-join-domains query. */
function activeUserOf(domain: string, ext: string) {
  return and(eq(domains.domain, domain), eq(users.ext, ext), eq(domains.active, true), eq(users.active, true));
}

function toUser(r: typeof users.$inferSelect, domain: string): User {
  return {
    id: r.id,
    domain,
    ext: r.ext,
    name: r.name ?? undefined,
    email: r.email ?? undefined,
    active: r.active,
    createdAt: r.createdAt,
  };
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function firstByLine(lines: number[]): number | undefined {
  return lines.length === 0 ? undefined : Math.min(...lines);
}

/** The constraint name when `err` (or its cause) is a PostgreSQL unique violation (23505). */
export function uniqueViolation(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const pg = e as Error & { code?: unknown; constraint?: unknown };
    if (pg.code === '23505') return typeof pg.constraint === 'string' ? pg.constraint : 'unknown';
  }
  return undefined;
}
