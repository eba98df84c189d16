/** When a failed webhook delivery is tried again: exponential backoff with jitter. */

/** Retry limits of webhook deliveries. */
export interface RetryPolicy {
  /** Attempts in all, the first included; then the delivery is marked failed. */
  maxAttempts: number;
  /** Delay after the first failure (doubles with each further failure). */
  baseDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
}

/** 8 attempts over about 5 hours: 30 s, 1, 2, 4, 8, 16, 32 min, then hourly (before jitter). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };

/**
 * The wait after failed attempt number `attempt` (1-based): `base * 2^(attempt-1)` capped at
 * `maxDelayMs`, then jittered into its upper half so receivers that failed together are not
 * retried together. `random` returns [0, 1).
 */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
