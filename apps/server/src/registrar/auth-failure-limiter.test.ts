import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from './auth-failure-limiter.js';

function setup(overrides: { maxEntries?: number } = {}) {
  let now = 1_000_000;
  const limiter = new AuthFailureLimiter({
    maxFailures: 3,
    windowMs: 60_000,
    blockMs: 300_000,
    clock: () => now,
    ...overrides,
  });
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe('AuthFailureLimiter', () => {
  it('blocks a source after maxFailures failures within the window', () => {
    const { limiter } = setup();
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(false);
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
  });

  it('blocks only the failing source', () => {
    const { limiter } = setup();
    for (let i = 0; i < 3; i++) limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.2')).toBe(false);
    expect(limiter.isBlocked('2001:db8::1')).toBe(false);
  });

  it('lifts the block after blockMs', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 3; i++) limiter.recordFailure('192.0.2.1');
    advance(299_999);
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
    advance(1);
    expect(limiter.isBlocked('192.0.2.1')).toBe(false);
  });

  it('does not count failures that fall out of the window', () => {
    const { limiter, advance } = setup();
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    advance(60_000);
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(false);
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
  });

  it('resets the count on success', () => {
    const { limiter } = setup();
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    limiter.recordSuccess('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(false);
  });

  it('keeps an active block in place even if a success is recorded from the same address', () => {
    const { limiter } = setup();
    for (let i = 0; i < 3; i++) limiter.recordFailure('192.0.2.1');
    limiter.recordSuccess('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
  });

  it('counts afresh after a block ends', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 3; i++) limiter.recordFailure('192.0.2.1');
    advance(300_000);
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(false);
    limiter.recordFailure('192.0.2.1');
    limiter.recordFailure('192.0.2.1');
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
  });

  it('prunes sources whose failures no longer matter', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(1000);
    advance(60_000);
    limiter.recordFailure('192.0.2.9');
    expect(limiter.size).toBe(1);
  });

  it('keeps blocked sources until their block ends, then prunes them', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 3; i++) limiter.recordFailure('192.0.2.1');
    advance(120_000);
    limiter.recordFailure('192.0.2.2');
    expect(limiter.isBlocked('192.0.2.1')).toBe(true);
    expect(limiter.size).toBe(2);
    advance(300_000);
    limiter.recordFailure('192.0.2.3');
    expect(limiter.size).toBe(1);
  });

  it('never tracks more than maxEntries sources', () => {
    const { limiter } = setup({ maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) limiter.recordFailure(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(100);
  });
});
