import { describe, expect, it } from 'vitest';
import { NonceCountTracker } from './nonce-count-tracker.js';

function setup(maxEntries?: number) {
  let now = 1_000_000;
  const tracker = new NonceCountTracker({ ttlMs: 10_000, clock: () => now, maxEntries });
  return { tracker, advance: (ms: number) => (now += ms), now: () => now };
}

describe('NonceCountTracker', () => {
  it('accepts increasing nonce-counts and calls a repeated or lower one a replay', () => {
    const { tracker, now } = setup();
    expect(tracker.accept('n1', 1, now())).toBe('accepted');
    expect(tracker.accept('n1', 1, now())).toBe('replay');
    expect(tracker.accept('n1', 3, now())).toBe('accepted');
    expect(tracker.accept('n1', 2, now())).toBe('replay');
    expect(tracker.accept('n1', 4, now())).toBe('accepted');
  });

  it('keeps counts per nonce', () => {
    const { tracker, now } = setup();
    expect(tracker.accept('n1', 5, now())).toBe('accepted');
    expect(tracker.accept('n2', 1, now())).toBe('accepted');
  });

  it('forgets nonces once they have expired', () => {
    const { tracker, advance, now } = setup();
    tracker.accept('old', 1, now());
    advance(10_001);
    tracker.accept('new', 1, now());
    expect(tracker.size).toBe(1);
  });

  it('stays within maxEntries and answers forgotten, never accepted, for an evicted live nonce', () => {
    const { tracker, advance, now } = setup(3);
    const issued: Record<string, number> = {};
    for (const n of ['a', 'b', 'c', 'd', 'e']) {
      issued[n] = now();
      expect(tracker.accept(n, 1, now())).toBe('accepted');
      advance(1);
    }
    expect(tracker.size).toBe(3);
    // 'a' and 'b' were evicted while still live: replaying nc=1 must not pass.
    expect(tracker.accept('a', 1, issued.a!)).toBe('forgotten');
    expect(tracker.accept('b', 7, issued.b!)).toBe('forgotten');
    // Tracked ones still work, and nonces issued after the evictions are welcome.
    expect(tracker.accept('e', 1, issued.e!)).toBe('replay');
    expect(tracker.accept('f', 1, now())).toBe('accepted');
  });

  it('keeps evicting the oldest, and expiring in order, through many thousand turns of a full tracker', () => {
    const { tracker, advance, now } = setup(2000);
    const issued: number[] = [];
    for (let i = 0; i < 9000; i++) {
      issued.push(now());
      expect(tracker.accept(`n${i}`, 1, now())).toBe('accepted');
      advance(1);
    }
    expect(tracker.size).toBe(2000);
    // The newest 2000 are tracked (a repeat is a replay); the ones evicted before are forgotten.
    expect(tracker.accept('n8999', 1, issued[8999]!)).toBe('replay');
    expect(tracker.accept('n7000', 1, issued[7000]!)).toBe('replay');
    expect(tracker.accept('n6999', 2, issued[6999]!)).toBe('forgotten');
    expect(tracker.accept('n0', 2, issued[0]!)).toBe('forgotten');
    // Time passes: every tracked nonce expires, oldest first, and a new one is tracked alone.
    advance(10_000 - 1000);
    expect(tracker.accept('late', 1, now())).toBe('accepted');
    expect(tracker.size).toBe(1001);
    advance(1001);
    expect(tracker.accept('later', 1, now())).toBe('accepted');
    expect(tracker.size).toBe(2);
  });
});
