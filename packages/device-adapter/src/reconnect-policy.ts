/** When to try again after a lost connection: the delay before attempt `n` (1-based), or undefined to give up. */
export interface ReconnectPolicy {
  nextDelayMs(attempt: number): number | undefined;
}

/**
 * Exponential back-off with full jitter: a random delay up to `min(maxMs, initialMs * 2^(n-1))`,
 * so a fleet of adapters that lost the server together does not come back in one wave.
 */
export class ExponentialBackoff implements ReconnectPolicy {
  constructor(
    private readonly o: { initialMs?: number; maxMs?: number; maxAttempts?: number; random?: () => number } = {},
  ) {}

  nextDelayMs(attempt: number): number | undefined {
    if (this.o.maxAttempts !== undefined && attempt > this.o.maxAttempts) return undefined;
    const ceiling = Math.min(this.o.maxMs ?? 30_000, (this.o.initialMs ?? 500) * 2 ** Math.min(attempt - 1, 30));
    // At least a quarter of the ceiling, so attempts never come back to back.
    return Math.round(ceiling * (0.25 + 0.75 * (this.o.random ?? Math.random)()));
  }
}
