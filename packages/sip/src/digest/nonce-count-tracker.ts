/**
 * Nonce-count replay protection (RFC 7616 §3.4 "nc", §5.5; RFC 2617 §3.2.2): for each nonce the
 * highest nc accepted so far; a request that repeats or lowers it is a replay.
 *
 * Memory is bounded two ways. Entries die with their nonce (issued + ttl): a queue keeps them in
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

/**
 * Tracks the highest nonce-count accepted per nonce. The first-use order lives in a queue of its
 * own rather than in the Map's iteration order: V8 leaves a deleted Map entry in place until the
 * table is rebuilt, so reaching the oldest live entry through an iterator walks over every entry
 * deleted before it. With the tracker full (each accept dropping the oldest) that walk grew to tens
 * of thousands of steps per REGISTER.
 */
export class NonceCountTracker {
  readonly #entries = new Map<string, Entry>();
  /** Nonces in first-use order from #head on (the ones before #head are gone); with their entries. */
  #order: string[] = [];
  #orderEntries: Entry[] = [];
  #head = 0;
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
    const own = ownCopy(nonce);
    const created: Entry = { nc, issuedAt };
    this.#entries.set(own, created);
    this.#order.push(own);
    this.#orderEntries.push(created);
    return 'accepted';
  }

  /**
   * Accepts the single use of a nonce answered without qop (no nonce-count: RFC 2069 style), as a
   * one-time nonce: 'replay' when the nonce was used before, with or without qop. Kamailio's
   * one_time_nonce does the same; the client gets a fresh nonce (stale) and answers it.
   */
  acceptOnce(nonce: string, issuedAt: number): NonceCountVerdict {
    if (this.#entries.has(nonce)) return 'replay';
    return this.accept(nonce, Number.MAX_SAFE_INTEGER, issuedAt);
  }

  #prune(now: number): void {
    const expiredBefore = now - this.#ttlMs;
    while (this.#head < this.#order.length && this.#orderEntries[this.#head]!.issuedAt < expiredBefore) this.#shift();
  }

  #evictOldest(now: number): void {
    if (this.#head >= this.#order.length) return;
    const issuedAt = this.#orderEntries[this.#head]!.issuedAt;
    this.#shift();
    if (issuedAt >= now - this.#ttlMs && issuedAt > this.#forgottenUntil) this.#forgottenUntil = issuedAt;
  }

  /** Drops the oldest entry; the queue's dead front is cut off once it is the larger part. */
  #shift(): void {
    this.#entries.delete(this.#order[this.#head]!);
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#orderEntries = this.#orderEntries.slice(this.#head);
      this.#head = 0;
    }
  }
}
