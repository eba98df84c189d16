/** What a {@link ReconnectPolicy} knows when asked for the next delay. */
export interface ReconnectContext {
  /** 1 for the first retry after a loss, 2 for the next, ... */
  readonly attempt: number;
  /** Milliseconds since the connection was lost. */
  readonly elapsedMs: number;
}

/**
 * Decides when the phone tries to reconnect its WebSocket (LiveKit's ReconnectPolicy): the
 * delay before attempt `n`, or null to give up. Injected so tests and apps choose their own.
 */
export interface ReconnectPolicy {
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** Options of {@link ExponentialBackoffPolicy}. */
export interface BackoffOptions {
  /** Delay before the first retry (default 500 ms: a blip heals before a user notices). */
  initialDelayMs?: number;
  /** Ceiling of the delay (default 30 s). */
  maxDelayMs?: number;
  /** Growth per attempt (default 2). */
  multiplier?: number;
  /** Fraction of random spread, 0..1 (default 0.2), so many phones do not reconnect in step. */
  jitter?: number;
  /** Give up after this many attempts (default never). */
  maxAttempts?: number;
  /** Random source in [0, 1) (injected for tests). */
  random?: () => number;
}

/** Exponential back-off with a ceiling and jitter: 500 ms, 1 s, 2 s, ... 30 s, 30 s, ... */
export class ExponentialBackoffPolicy implements ReconnectPolicy {
  private readonly initial: number;
  private readonly max: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly maxAttempts: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.initial = o.initialDelayMs ?? 500;
    this.max = o.maxDelayMs ?? 30_000;
    this.multiplier = o.multiplier ?? 2;
    this.jitter = Math.min(Math.max(o.jitter ?? 0.2, 0), 1);
    this.maxAttempts = o.maxAttempts ?? Infinity;
    this.random = o.random ?? Math.random;
    if (!(this.initial > 0) || !(this.max >= this.initial) || !(this.multiplier >= 1)) {
      throw new RangeError('backoff needs 0 < initialDelayMs <= maxDelayMs and multiplier >= 1');
    }
  }

  /** The delay before `attempt`, spread by ±jitter, never above maxDelayMs; null past maxAttempts. */
  nextRetryDelayMs({ attempt }: ReconnectContext): number | null {
    if (attempt > this.maxAttempts) return null;
    const base = Math.min(this.initial * this.multiplier ** Math.max(attempt - 1, 0), this.max);
    const spread = base * this.jitter * (this.random() * 2 - 1);
    return Math.round(Math.min(Math.max(base + spread, 0), this.max));
  }
}
