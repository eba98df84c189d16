/** What SIP processing needs from the directory: local domains, users and their SIP secrets. */

/** A user's SIP credentials, decrypted for digest verification only; never logged. */
export interface SipCredentials {
  readonly domain: string;
  readonly ext: string;
  readonly password: string;
  readonly displayName?: string | undefined;
}

/** The directory seen from the SIP side (DirectoryService implements it). */
export interface SubscriberDirectory {
  isLocalDomain(domain: string): Promise<boolean>;
  getSipCredentials(domain: string, ext: string): Promise<SipCredentials | undefined>;
}

/** Options for CachedSubscriberDirectory. */
export interface SubscriberCacheOptions {
  /** How long an answer is reused (default 5000 ms); directory changes also invalidate. */
  ttlMs?: number;
  maxEntries?: number;
  clock?: () => number;
}

/**
 * Caches directory answers (including "no such user") for a short time so that a REGISTER
 * storm does not become a query storm. `invalidate()` is called on directory changes.
 */
export class CachedSubscriberDirectory implements SubscriberDirectory {
  private readonly domains = new Map<string, { at: number; value: boolean }>();
  private readonly users = new Map<string, { at: number; value: Promise<SipCredentials | undefined> }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(
    private readonly inner: SubscriberDirectory,
    options: SubscriberCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5000;
    this.maxEntries = options.maxEntries ?? 200_000;
    this.clock = options.clock ?? Date.now;
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    const key = domain.toLowerCase();
    const hit = this.domains.get(key);
    const now = this.clock();
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = await this.inner.isLocalDomain(key);
    if (this.domains.size >= this.maxEntries) this.domains.clear();
    this.domains.set(key, { at: now, value });
    return value;
  }

  getSipCredentials(domain: string, ext: string): Promise<SipCredentials | undefined> {
    const key = `${domain.toLowerCase()}\n${ext}`;
    const hit = this.users.get(key);
    const now = this.clock();
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.inner.getSipCredentials(domain, ext);
    if (this.users.size >= this.maxEntries) this.users.clear();
    this.users.set(key, { at: now, value });
    value.catch(() => this.users.delete(key));
    return value;
  }

  /** Forgets cached answers (all, or one domain's). */
  invalidate(domain?: string): void {
    if (domain === undefined) {
      this.domains.clear();
      this.users.clear();
      return;
    }
    const d = domain.toLowerCase();
    this.domains.delete(d);
    for (const k of this.users.keys()) if (k.startsWith(d + '\n')) this.users.delete(k);
  }
}
