/**
 * Brute-force limiter for digest authentication, keyed by source IP: after `maxFailures`
 * failed attempts within `windowMs`, the source is blocked for `blockMs` (the registrar
 * answers 403 meanwhile). Pure: no timers, no events; time comes from the injected clock.
 *
 * Memory is bounded: the map is kept in last-touched order, entries that no longer matter
 * (window over, not blocked) are pruned from its front, and at most `maxEntries` sources are
 * tracked; past that the least recently touched source is forgotten.
 */

/** Options for {@link AuthFailureLimiter}. */
export interface AuthFailureLimiterOptions {
  /** Failures within one window that trigger a block (at least 1). */
  readonly maxFailures: number;
  /** Length of the counting window, from the first failure in it. */
  readonly windowMs: number;
  /** How long a block lasts. */
  readonly blockMs: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** Most sources tracked at once (default 100 000). */
  readonly maxEntries?: number;
}

interface SourceState {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/** Counts authentication failures per source IP and blocks sources that fail too often. */
export class AuthFailureLimiter {
  readonly #sources = new Map<string, SourceState>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #blockMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(options: AuthFailureLimiterOptions) {
    this.#maxFailures = Math.max(1, Math.floor(options.maxFailures));
    this.#windowMs = options.windowMs;
    this.#blockMs = options.blockMs;
    this.#clock = options.clock;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 100_000);
  }

  /** Number of sources tracked now (for metrics and tests). */
  get size(): number {
    return this.#sources.size;
  }

  /** Counts one failed authentication from `ip`; blocks it when the threshold is reached. */
  recordFailure(ip: string): void {
    const now = this.#clock();
    this.#prune(now);
    let state = this.#sources.get(ip);
    if (state === undefined) {
      if (this.#sources.size >= this.#maxEntries) this.#evictOldest();
      state = { failures: 0, windowStart: now, blockedUntil: 0 };
    } else {
      // Re-insert so the map stays in last-touched order.
      this.#sources.delete(ip);
      if (now - state.windowStart >= this.#windowMs) {
        state.failures = 0;
        state.windowStart = now;
      }
    }
    this.#sources.set(ip, state);
    state.failures++;
    if (state.failures >= this.#maxFailures) {
      state.blockedUntil = Math.max(state.blockedUntil, now + this.#blockMs);
      state.failures = 0;
      state.windowStart = now;
    }
  }

  /** A successful authentication from `ip` clears its failures (not an active block: a blocked source is not checked). */
  recordSuccess(ip: string): void {
    const state = this.#sources.get(ip);
    if (state !== undefined && state.blockedUntil <= this.#clock()) this.#sources.delete(ip);
  }

  /** True while `ip` is blocked. */
  isBlocked(ip: string): boolean {
    const state = this.#sources.get(ip);
    if (state === undefined) return false;
    const now = this.#clock();
    if (state.blockedUntil > now) return true;
    if (this.#isDead(state, now)) this.#sources.delete(ip);
    return false;
  }

  #isDead(state: SourceState, now: number): boolean {
    return state.blockedUntil <= now && now - state.windowStart >= this.#windowMs;
  }

  #prune(now: number): void {
    for (const [ip, state] of this.#sources) {
      if (!this.#isDead(state, now)) break;
      this.#sources.delete(ip);
    }
  }

  #evictOldest(): void {
    for (const ip of this.#sources.keys()) {
      this.#sources.delete(ip);
      return;
    }
  }
}
