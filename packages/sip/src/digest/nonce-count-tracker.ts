/**
 * Nonce-count replay protection (RFC 7616 §3.4 "nc", §5.5; RFC 2617 §3.2.2): for each nonce the
 * highest nc accepted so far; a request that repeats or lowers it is a replay.
 *
 * Memory is bounded two ways. Entries die with their nonce (issued + ttl): the map is kept in
 * first-use order, which follows issue order closely, so expired entries are pruned from its
 * front. And at most `maxEntries` are kept: when full, the oldest entry is dropped and its
 * issue time raises a watermark; a nonce issued at or before the watermark that is no longer
 * tracked is answered 'forgotten' (the caller treats it as stale and issues a fresh nonce),
 * so evicting never lets a replay through.
 */

import { ownCopy } from '../own-copy.js';

/** Options for {@link NonceCountTracker}. */
export interface NonceCountTrackerOptions {
  /** The nonce lifetime (the NonceIssuer's ttlMs): an entry is useless after issuedAt + ttlMs. */
  readonly ttlMs: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** Most nonces tracked at once (default 100 000, about 15 MB at most). */
  readonly maxEntries?: number;
}

/** 'accepted' (nc is new and now recorded), 'replay' (nc not above the last one), 'forgotten' (evicted: get a new nonce). */
export type NonceCountVerdict = 'accepted' | 'replay' | 'forgotten';

interface Entry {
  nc: number;
  readonly issuedAt: number;
}

/** Tracks the highest nonce-count accepted per nonce. */
export class NonceCountTracker {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;
  /** Issue time of the newest live nonce ever evicted for space; -Infinity when none. */
  #forgottenUntil = Number.NEGATIVE_INFINITY;

  constructor(options: NonceCountTrackerOptions) {
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 100_000);
  }

  /** Number of nonces tracked now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Accepts `nc` for `nonce` (issued at `issuedAt`) if it is above every nc accepted before
   * for that nonce, and records it. Call only after the response digest has been verified, so
   * that forged requests cannot advance the count and lock out the real client.
   */
  accept(nonce: string, nc: number, issuedAt: number): NonceCountVerdict {
    const now = this.#clock();
    this.#prune(now);
    const entry = this.#entries.get(nonce);
    if (entry !== undefined) {
      if (nc <= entry.nc) return 'replay';
      entry.nc = nc;
      return 'accepted';
    }
    if (issuedAt <= this.#forgottenUntil) return 'forgotten';
    if (this.#entries.size >= this.#maxEntries) this.#evictOldest(now);
    // A copy of its own: the nonce is usually a slice of the whole request text, which the entry
    // would otherwise keep in memory for the nonce's lifetime.
    this.#entries.set(ownCopy(nonce), { nc, issuedAt });
    return 'accepted';
  }

  #prune(now: number): void {
    const expiredBefore = now - this.#ttlMs;
    for (const [nonce, entry] of this.#entries) {
      if (entry.issuedAt >= expiredBefore) break;
      this.#entries.delete(nonce);
    }
  }

  #evictOldest(now: number): void {
    for (const [nonce, entry] of this.#entries) {
      this.#entries.delete(nonce);
      if (entry.issuedAt >= now - this.#ttlMs && entry.issuedAt > this.#forgottenUntil) {
        this.#forgottenUntil = entry.issuedAt;
      }
      return;
    }
  }
}
