import { describe, expect, it } from 'vitest';
import { ExponentialBackoffPolicy } from './reconnect-policy.js';

const delays = (p: ExponentialBackoffPolicy, n: number) =>
  Array.from({ length: n }, (_, i) => p.nextRetryDelayMs({ attempt: i + 1, elapsedMs: 0 }));

describe('ExponentialBackoffPolicy', () => {
  it('doubles from the initial delay up to the ceiling without jitter', () => {
    const p = new ExponentialBackoffPolicy({ initialDelayMs: 500, maxDelayMs: 5000, jitter: 0 });
    expect(delays(p, 7)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('spreads each delay by at most the jitter fraction and never exceeds the ceiling', () => {
    const low = new ExponentialBackoffPolicy({ initialDelayMs: 1000, maxDelayMs: 8000, jitter: 0.25, random: () => 0 });
    const high = new ExponentialBackoffPolicy({
      initialDelayMs: 1000,
      maxDelayMs: 8000,
      jitter: 0.25,
      random: () => 0.999999,
    });
    expect(delays(low, 5)).toEqual([750, 1500, 3000, 6000, 6000]);
    expect(delays(high, 5)).toEqual([1250, 2500, 5000, 8000, 8000]);
  });

  it('gives up (null) after maxAttempts', () => {
    const p = new ExponentialBackoffPolicy({ maxAttempts: 2, jitter: 0 });
    expect(delays(p, 3)).toEqual([500, 1000, null]);
  });

  it('refuses nonsense options', () => {
    expect(() => new ExponentialBackoffPolicy({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => new ExponentialBackoffPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => new ExponentialBackoffPolicy({ multiplier: 0.5 })).toThrow(RangeError);
  });
});
