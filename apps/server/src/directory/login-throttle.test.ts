import { describe, expect, it } from 'vitest';
import { MemoryLoginThrottle } from './login-throttle.js';

function setup() {
  let now = 1_000_000;
  const throttle = new MemoryLoginThrottle({ clock: () => now });
  return { throttle, advance: (ms: number) => (now += ms) };
}

const OWNER = 'owner@example.com';

describe('MemoryLoginThrottle', () => {
  it('makes a guessing address wait longer after each failure, exponentially up to 15 minutes', () => {
    const { throttle, advance } = setup();
    const waits: number[] = [];
    for (let i = 0; i < 17; i++) {
      const v = throttle.check(OWNER, '203.0.113.9');
      const wait = v.allowed ? 0 : v.retryAfterMs;
      waits.push(wait);
      advance(wait);
      throttle.recordFailure(OWNER, '203.0.113.9');
    }
    expect(waits.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(waits.slice(4, 8)).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.max(...waits)).toBe(15 * 60_000);
  });

  it('never locks the owner out: an address with no failures signs in while the guesser waits', () => {
    const { throttle } = setup();
    for (let i = 0; i < 10; i++) throttle.recordFailure(OWNER, '203.0.113.9');
    expect(throttle.check(OWNER, '203.0.113.9').allowed).toBe(false);
    expect(throttle.check(OWNER, '198.51.100.7').allowed).toBe(true);
  });

  it('blocks an address after 20 failures over any accounts, for every account', () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 20; i++) throttle.recordFailure(`user${i}@example.com`, '203.0.113.9');
    expect(throttle.check('fresh@example.com', '203.0.113.9')).toEqual({ allowed: false, retryAfterMs: 15 * 60_000 });
    expect(throttle.check('fresh@example.com', '198.51.100.7').allowed).toBe(true);
    advance(15 * 60_000);
    expect(throttle.check('fresh@example.com', '203.0.113.9').allowed).toBe(true);
  });

  it('forgets the account after a password reset, and a pair after a success', () => {
    const { throttle } = setup();
    for (let i = 0; i < 8; i++) throttle.recordFailure(OWNER, '203.0.113.9');
    for (let i = 0; i < 8; i++) throttle.recordFailure('other@example.com', '203.0.113.8');
    throttle.forgetAccount(OWNER);
    expect(throttle.check(OWNER, '203.0.113.9').allowed).toBe(true);
    expect(throttle.check('other@example.com', '203.0.113.8').allowed).toBe(false);
    throttle.recordSuccess('other@example.com', '203.0.113.8');
    expect(throttle.check('other@example.com', '203.0.113.8').allowed).toBe(true);
  });
});
