/**
 * A token bucket per source (an IP address): `ratePerS` refills per second up to `burst`. Used
 * for Identify frames, so guessing codes or HMACs from one place is slow, and a flood from one
 * source cannot starve the others. Memory is bounded: the oldest sources go past `maxSources`.
 */
export class SourceRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly o: { ratePerS: number; burst: number; maxSources?: number; clock?: () => number }) {}

  /** Takes one token for `source`; false when its bucket is empty (refuse the action). */
  take(source: string): boolean {
    const now = (this.o.clock ?? Date.now)();
    let b = this.#buckets.get(source);
    if (b) {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.ratePerS);
      b.at = now;
      // Re-inserted so the map stays ordered by last use.
      this.#buckets.delete(source);
    } else {
      b = { tokens: this.o.burst, at: now };
    }
    this.#buckets.set(source, b);
    if (this.#buckets.size > (this.o.maxSources ?? 100_000)) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
