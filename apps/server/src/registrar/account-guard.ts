/**
 * Per-account slow-down of password guessing (the per-source AuthFailureLimiter cannot see an
 * attack spread over many addresses). Failures are counted per account, from every source, but
 * only failures the caller has proven were made by that source (its nonce was issued to it), so
 * spoofed traffic cannot raise them. While an account is under attack (`threshold` failures in
 * `windowMs`) each source that has not signed in to it before is allowed one credential check per
 * `slowIntervalMs`; the others are answered as a wrong password would be, unchecked. Sources that
 * signed in successfully (the owner's phones) are never slowed: the owner is never locked out.
 *
 * Small on purpose: the interface is what a shared (Redis) implementation would provide.
 */

/** Decides whether a credential check for an account may go ahead. */
export interface AccountGuard {
  /** True when `source` may have its credentials for `account` checked now (and uses the slot). */
  admit(account: string, source: string): boolean;
  /** A failed check whose nonce was issued to `source`. */
  recordFailure(account: string, source: string): void;
  /** A successful check: `source` is trusted for `account` from now on. */
  recordSuccess(account: string, source: string): void;
}

/** Options for {@link AccountSlowdown}. */
export interface AccountSlowdownOptions {
  /** Failures within one window that put an account under attack (default 20). */
  readonly threshold?: number;
  /** Length of the counting window (default 60 s). */
  readonly windowMs?: number;
  /** While under attack, one check per source per this interval (default 5 s). */
  readonly slowIntervalMs?: number;
  /** How long a successful source stays trusted (default 30 days). */
  readonly trustMs?: number;
  /** Most accounts tracked (default 100 000; the least recently touched is forgotten). */
  readonly maxAccounts?: number;
  /** Most sources remembered per account, trusted or slowed (default 64). */
  readonly maxSourcesPerAccount?: number;
  readonly clock?: () => number;
}

interface AccountState {
  failures: number;
  windowStart: number;
  /** Source -> last successful sign-in. */
  readonly trusted: Map<string, number>;
  /** Source -> last check allowed while under attack. */
  readonly slowed: Map<string, number>;
}

/** The in-memory AccountGuard of one node. */
export class AccountSlowdown implements AccountGuard {
  readonly #accounts = new Map<string, AccountState>();
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #slowIntervalMs: number;
  readonly #trustMs: number;
  readonly #maxAccounts: number;
  readonly #maxSources: number;
  readonly #clock: () => number;

  constructor(options: AccountSlowdownOptions = {}) {
    this.#threshold = Math.max(1, options.threshold ?? 20);
    this.#windowMs = options.windowMs ?? 60_000;
    this.#slowIntervalMs = options.slowIntervalMs ?? 5000;
    this.#trustMs = options.trustMs ?? 30 * 86_400_000;
    this.#maxAccounts = options.maxAccounts ?? 100_000;
    this.#maxSources = options.maxSourcesPerAccount ?? 64;
    this.#clock = options.clock ?? Date.now;
  }

  /** Accounts tracked now. */
  get size(): number {
    return this.#accounts.size;
  }

  admit(account: string, source: string): boolean {
    const state = this.#accounts.get(account);
    if (state === undefined) return true;
    const now = this.#clock();
    if (!this.#underAttack(state, now)) return true;
    const trustedAt = state.trusted.get(source);
    if (trustedAt !== undefined && now - trustedAt < this.#trustMs) return true;
    const last = state.slowed.get(source);
    if (last !== undefined && now - last < this.#slowIntervalMs) return false;
    remember(state.slowed, source, now, this.#maxSources);
    return true;
  }

  recordFailure(account: string, source: string): void {
    const now = this.#clock();
    const state = this.#touch(account);
    if (now - state.windowStart >= this.#windowMs) {
      state.failures = 0;
      state.windowStart = now;
    }
    state.failures++;
    // A failed source waits its interval before its next check while the account is under attack.
    remember(state.slowed, source, now, this.#maxSources);
  }

  recordSuccess(account: string, source: string): void {
    const state = this.#touch(account);
    remember(state.trusted, source, this.#clock(), this.#maxSources);
    state.slowed.delete(source);
  }

  #underAttack(state: AccountState, now: number): boolean {
    return state.failures >= this.#threshold && now - state.windowStart < this.#windowMs;
  }

  #touch(account: string): AccountState {
    let state = this.#accounts.get(account);
    if (state === undefined) {
      if (this.#accounts.size >= this.#maxAccounts) {
        const oldest = this.#accounts.keys().next();
        if (oldest.done !== true) this.#accounts.delete(oldest.value);
      }
      state = { failures: 0, windowStart: this.#clock(), trusted: new Map(), slowed: new Map() };
    } else this.#accounts.delete(account); // re-inserted below: the map stays in last-touched order
    this.#accounts.set(account, state);
    return state;
  }
}

/** Sets `key` in a bounded, insertion-ordered map (the oldest entry gives way). */
function remember(map: Map<string, number>, key: string, value: number, max: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}
