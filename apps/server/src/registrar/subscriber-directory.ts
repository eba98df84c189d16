/**
 * What SIP processing needs from the directory (local domains, users, digest secrets), and
 * the in-memory cache that serves it: every REGISTER and INVITE is authenticated, so the
 * secrets are held as HA1 per algorithm (never the password) and reloaded on directory changes.
 */
import { computeHa1, DIGEST_ALGORITHMS, type DigestAlgorithmName, type StoredCredentials } from '@handset/sip';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';

/** A user's SIP credentials as the directory returns them (decrypted; never logged). */
export interface SipCredentials {
  readonly domain: string;
  readonly ext: string;
  readonly password: string;
  readonly displayName?: string | undefined;
}

/** The directory seen from the SIP side. */
export interface SubscriberDirectory {
  isLocalDomain(domain: string): Promise<boolean>;
  /** True when the user exists and is active. */
  userExists(domain: string, ext: string): Promise<boolean>;
  /** The digest secret of a user, or undefined when unknown or inactive. */
  digestSecret(domain: string, ext: string): Promise<StoredCredentials | undefined>;
  /** Warms the cache for a user about to answer a challenge (optional; never waits). */
  prefetch?(domain: string, ext: string): void;
}

/** What the cache reads from (DirectoryService implements it). */
export interface SubscriberSource {
  listActiveDomainNames(): Promise<string[]>;
  listSipCredentials(domain?: string): Promise<{ credentials: SipCredentials[]; unreadable: number }>;
  isLocalDomain(domain: string): Promise<boolean>;
  getSipCredentials(domain: string, ext: string): Promise<SipCredentials | undefined>;
}

/** Options for SubscriberCache. */
export interface SubscriberCacheOptions {
  /** Algorithms whose HA1 is kept (the ones challenged with). */
  algorithms: readonly DigestAlgorithmName[];
  /** A name not found is looked up again after this long (default 10 s): covers changes made by other nodes. */
  negativeTtlMs?: number;
  /** Full reload interval (default 60 s), for changes made outside this process. */
  refreshMs?: number;
  clock?: () => number;
  logger?: Logger | undefined;
}

type Secret = { ha1: Partial<Record<'MD5' | 'SHA-256' | 'SHA-512-256', string>> };

/** Most names held in the negative cache (it restarts when full). */
const MAX_DECOYS = 100_000;

/**
 * Preloaded subscriber data. Lookups are Map reads, for known and unknown users alike: a digest
 * check never waits for the store, or a 401 for an unknown extension would come later than one for
 * a wrong password and tell which extensions exist. A name not held gets a decoy secret (random
 * HA1 values made the way a user's are; no password matches them), kept in the negative cache, and
 * the store is asked in the background; a user added by another process is found that way (its
 * phone's first REGISTER is challenged, and the answer a moment later finds it) or by the refresh.
 */
export class SubscriberCache implements SubscriberDirectory {
  private domains = new Set<string>();
  private users = new Map<string, Secret>();
  private readonly misses = new Map<string, number>();
  /** Negative cache of users: a decoy secret per name not found, with when it was made or confirmed. */
  private readonly decoys = new Map<string, { readonly secret: Secret; at: number }>();
  /** Domains being reloaded after a change, with that reload. */
  private readonly changing = new Map<string, Promise<void>>();
  /** Names being looked up in the background. */
  private readonly filling = new Set<string>();
  /** Domain lookups in progress: requests that arrive meanwhile wait for the same one (one reload, not one each). */
  private readonly domainLookups = new Map<string, Promise<boolean>>();
  private readonly bases: ReadonlyArray<'MD5' | 'SHA-256' | 'SHA-512-256'>;
  private readonly clock: () => number;
  private readonly negativeTtlMs: number;
  private refreshTimer: NodeJS.Timeout | undefined;
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: SubscriberSource,
    private readonly options: SubscriberCacheOptions,
  ) {
    this.bases = [...new Set(options.algorithms.map((a) => DIGEST_ALGORITHMS[a].base))];
    this.clock = options.clock ?? Date.now;
    this.negativeTtlMs = options.negativeTtlMs ?? 10_000;
  }

  /** Loads everything and starts the periodic refresh. */
  async start(): Promise<void> {
    await this.reload();
    this.refreshTimer = setInterval(() => void this.reload(), this.options.refreshMs ?? 60_000);
    this.refreshTimer.unref();
  }

  /** Stops the refresh; idempotent. */
  close(): void {
    clearInterval(this.refreshTimer);
  }

  /** Number of users held. */
  get size(): number {
    return this.users.size;
  }

  /**
   * Reloads one domain (after a change to it) or everything. Serialized. While a domain's reload
   * is under way, digest lookups in that domain wait for it, known and unknown users alike: a user
   * just added is found, and the wait tells nothing about who exists.
   */
  reload(domain?: string): Promise<void> {
    const loading = this.loading
      .then(() => this.load(domain))
      .catch((err: unknown) => {
        this.options.logger?.error({ err, domain }, 'could not load subscribers');
      });
    this.loading = loading;
    if (domain !== undefined) {
      const d = domain.toLowerCase();
      this.changing.set(d, loading);
      void loading.then(() => {
        if (this.changing.get(d) === loading) this.changing.delete(d);
      });
    }
    return loading;
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    const d = domain.toLowerCase();
    if (this.domains.has(d)) return true;
    if (this.recentlyMissed(`d\n${d}`)) return false;
    let lookup = this.domainLookups.get(d);
    if (lookup === undefined) {
      lookup = this.lookUpDomain(d).finally(() => this.domainLookups.delete(d));
      this.domainLookups.set(d, lookup);
    }
    return lookup;
  }

  private async lookUpDomain(d: string): Promise<boolean> {
    const found = await this.source.isLocalDomain(d);
    if (found) await this.reload(d);
    else this.misses.set(`d\n${d}`, this.clock());
    return found;
  }

  /** Asks the store when the name is not held (routing needs the truth, and happens after authentication). */
  async userExists(domain: string, ext: string): Promise<boolean> {
    const key = `${domain.toLowerCase()}\n${ext}`;
    if (this.users.has(key)) return true;
    if (this.recentlyMissed(key)) return false;
    const c = await this.source.getSipCredentials(domain, ext);
    if (!c) {
      this.misses.set(key, this.clock());
      return false;
    }
    this.users.set(key, this.secretOf(c));
    return true;
  }

  /**
   * The user's secret, or for a name not held a decoy (see the class comment): never waits for
   * the store, so known and unknown users take the same time.
   */
  async digestSecret(domain: string, ext: string): Promise<StoredCredentials | undefined> {
    const d = domain.toLowerCase();
    if (this.changing.size > 0) {
      const change = this.changing.get(d);
      if (change !== undefined) await change;
    }
    const key = `${d}\n${ext}`;
    const hit = this.users.get(key);
    if (hit) return hit;
    const now = this.clock();
    let decoy = this.decoys.get(key);
    if (decoy === undefined) {
      if (this.decoys.size >= MAX_DECOYS) this.decoys.clear();
      decoy = { secret: this.secretOf({ domain, ext, password: randomBytes(18).toString('base64url') }), at: now };
      this.decoys.set(key, decoy);
      this.fill(key, domain, ext);
    } else if (now - decoy.at >= this.negativeTtlMs) {
      decoy.at = now;
      this.fill(key, domain, ext);
    }
    return decoy.secret;
  }

  prefetch(domain: string, ext: string): void {
    void this.digestSecret(domain, ext);
  }

  /** Looks a name up in the background: found, it joins the users; else its decoy stays. */
  private fill(key: string, domain: string, ext: string): void {
    if (this.filling.has(key)) return;
    this.filling.add(key);
    this.source
      .getSipCredentials(domain, ext)
      .then(
        (c) => {
          if (c === undefined) return;
          this.users.set(key, this.secretOf(c));
          this.decoys.delete(key);
        },
        (err: unknown) => this.options.logger?.warn({ err, domain }, 'could not look a SIP user up'),
      )
      .finally(() => this.filling.delete(key));
  }

  private async load(domain?: string): Promise<void> {
    const { credentials, unreadable } = await this.source.listSipCredentials(domain);
    if (unreadable > 0)
      this.options.logger?.error({ unreadable, domain }, 'SIP passwords that cannot be decrypted were skipped');
    const fresh = new Map<string, Secret>();
    for (const c of credentials) fresh.set(`${c.domain}\n${c.ext}`, this.secretOf(c));
    if (domain === undefined) {
      this.users = fresh;
      this.domains = new Set(await this.source.listActiveDomainNames());
    } else {
      const d = domain.toLowerCase();
      for (const k of [...this.users.keys()]) if (k.startsWith(d + '\n')) this.users.delete(k);
      for (const [k, v] of fresh) this.users.set(k, v);
      if (await this.source.isLocalDomain(d)) this.domains.add(d);
      else this.domains.delete(d);
    }
    this.misses.clear();
    // Users just loaded no longer need their decoy (an unknown name keeps its own: same answer as before).
    for (const k of fresh.keys()) this.decoys.delete(k);
  }

  private secretOf(c: SipCredentials): Secret {
    const ha1: Secret['ha1'] = {};
    for (const base of this.bases) ha1[base] = computeHa1(DIGEST_ALGORITHMS[base], c.ext, c.domain, c.password);
    return { ha1 };
  }

  private recentlyMissed(key: string): boolean {
    const at = this.misses.get(key);
    if (at === undefined) return false;
    if (this.clock() - at < this.negativeTtlMs) return true;
    this.misses.delete(key);
    return false;
  }
}
