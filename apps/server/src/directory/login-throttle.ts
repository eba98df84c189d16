/**
 * Throttling of password sign-ins (HTTP login, web phone SIP-account sign-in). Keyed by account
 * and source together, so that knowing an owner's e-mail is not enough to lock the owner out:
 * an address that guesses wrong waits longer and longer (exponential back-off) before its next
 * try for that account, while the owner's own address, with no failures, signs in as usual. A
 * hard per-source limit stops one address guessing across many accounts. A password reset forgets
 * the account's failures everywhere (the owner's own address then has a clean slate too).
 *
 * Small on purpose: the interface is what a shared (Redis) implementation would provide.
 */

/** Whether a sign-in may be tried now. */
export type LoginVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/** Decides when a sign-in may be tried. */
export interface LoginThrottle {
  check(account: string, source: string): LoginVerdict;
  recordFailure(account: string, source: string): void;
  recordSuccess(account: string, source: string): void;
  /** After a password reset: the account's failures from every source are forgotten. */
  forgetAccount(account: string): void;
}

/** Options for {@link MemoryLoginThrottle}. */
export interface MemoryLoginThrottleOptions {
  /** Failures of one account from one source that are free of any wait (default 3). */
  readonly freeFailures?: number;
  /** The first wait after the free failures; each further failure doubles it (default 1 s). */
  readonly baseDelayMs?: number;
  /** The longest wait (default 15 min). */
  readonly maxDelayMs?: number;
  /** Failures from one source, over all accounts, within `windowMs` that block it (default 20). */
  readonly maxFailuresPerSource?: number;
  /** Window of the per-source count, and how long a pair's failures are remembered (default 15 min). */
  readonly windowMs?: number;
  /** How long a blocked source stays blocked (default 15 min). */
  readonly blockMs?: number;
  /** Most pairs and sources tracked (default 100 000 each; the least recently touched is forgotten). */
  readonly maxEntries?: number;
  readonly clock?: () => number;
}

interface PairState {
  failures: number;
  last: number;
}

interface SourceState {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

const ALLOWED: LoginVerdict = Object.freeze({ allowed: true });

/** The in-memory LoginThrottle of one node. */
export class MemoryLoginThrottle implements LoginThrottle {
  readonly #pairs = new Map<string, PairState>();
  readonly #sources = new Map<string, SourceState>();
  readonly #free: number;
  readonly #base: number;
  readonly #max: number;
  readonly #perSource: number;
  readonly #windowMs: number;
  readonly #blockMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(o: MemoryLoginThrottleOptions = {}) {
    this.#free = Math.max(0, o.freeFailures ?? 3);
    this.#base = o.baseDelayMs ?? 1000;
    this.#max = o.maxDelayMs ?? 15 * 60_000;
    this.#perSource = Math.max(1, o.maxFailuresPerSource ?? 20);
    this.#windowMs = o.windowMs ?? 15 * 60_000;
    this.#blockMs = o.blockMs ?? 15 * 60_000;
    this.#maxEntries = o.maxEntries ?? 100_000;
    this.#clock = o.clock ?? Date.now;
  }

  check(account: string, source: string): LoginVerdict {
    const now = this.#clock();
    const s = this.#sources.get(source);
    if (s !== undefined && s.blockedUntil > now) return { allowed: false, retryAfterMs: s.blockedUntil - now };
    const p = this.#pairs.get(pairKey(account, source));
    if (p === undefined) return ALLOWED;
    const wait = this.#delayAfter(p.failures);
    if (now - p.last >= wait + this.#windowMs) {
      this.#pairs.delete(pairKey(account, source));
      return ALLOWED;
    }
    const until = p.last + wait;
    return until > now ? { allowed: false, retryAfterMs: until - now } : ALLOWED;
  }

  recordFailure(account: string, source: string): void {
    const now = this.#clock();
    const key = pairKey(account, source);
    const p = this.#pairs.get(key);
    // A pair is remembered for the window after its wait ended: quiet that long, it starts afresh.
    const fresh = p === undefined || now - p.last >= this.#delayAfter(p.failures) + this.#windowMs;
    bounded(this.#pairs, key, { failures: fresh ? 1 : p.failures + 1, last: now }, this.#maxEntries);
    let s = this.#sources.get(source);
    if (s === undefined || (now - s.windowStart >= this.#windowMs && s.blockedUntil <= now)) {
      s = { failures: 0, windowStart: now, blockedUntil: 0 };
    }
    s.failures++;
    if (s.failures >= this.#perSource) {
      s.blockedUntil = now + this.#blockMs;
      s.failures = 0;
      s.windowStart = now;
    }
    bounded(this.#sources, source, s, this.#maxEntries);
  }

  recordSuccess(account: string, source: string): void {
    this.#pairs.delete(pairKey(account, source));
  }

  forgetAccount(account: string): void {
    const prefix = `${account}\n`;
    for (const key of this.#pairs.keys()) if (key.startsWith(prefix)) this.#pairs.delete(key);
  }

  /** The wait after `failures` failures of one pair. */
  #delayAfter(failures: number): number {
    if (failures <= this.#free) return 0;
    return Math.min(this.#max, this.#base * 2 ** Math.min(30, failures - this.#free - 1));
  }
}

const pairKey = (account: string, source: string): string => `${account}\n${source}`;

/** Sets `key` last in insertion order, dropping the oldest entry when full. */
function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}
