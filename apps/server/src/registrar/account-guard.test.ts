import { describe, expect, it } from 'vitest';
import { AccountSlowdown } from './account-guard.js';

function setup() {
  let now = 1_000_000;
  const guard = new AccountSlowdown({ threshold: 3, windowMs: 60_000, slowIntervalMs: 5000, clock: () => now });
  return { guard, advance: (ms: number) => (now += ms) };
}

describe('AccountSlowdown', () => {
  it('admits every check while the account is below the threshold', () => {
    const { guard } = setup();
    guard.recordFailure('100@d', '192.0.2.1');
    guard.recordFailure('100@d', '192.0.2.1');
    expect(guard.admit('100@d', '192.0.2.1')).toBe(true);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(true);
  });

  it('under attack, gives each unknown source one check per interval, and the owner every check', () => {
    const { guard, advance } = setup();
    guard.recordSuccess('100@d', '198.51.100.7'); // the owner's phone
    for (const source of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) guard.recordFailure('100@d', source);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(false); // failed just now
    expect(guard.admit('100@d', '203.0.113.9')).toBe(true); // a new address: one check
    expect(guard.admit('100@d', '203.0.113.9')).toBe(false); // and not two
    for (let i = 0; i < 10; i++) expect(guard.admit('100@d', '198.51.100.7')).toBe(true);
    advance(5000);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(true);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(false);
    // Other accounts are not affected.
    expect(guard.admit('101@d', '192.0.2.1')).toBe(true);
  });

  it('lets the attack state end with its window', () => {
    const { guard, advance } = setup();
    for (let i = 0; i < 3; i++) guard.recordFailure('100@d', '192.0.2.1');
    expect(guard.admit('100@d', '192.0.2.1')).toBe(false);
    advance(60_000);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(true);
    expect(guard.admit('100@d', '192.0.2.1')).toBe(true);
  });

  it('keeps memory bounded: accounts and sources per account', () => {
    let now = 0;
    const guard = new AccountSlowdown({ maxAccounts: 100, maxSourcesPerAccount: 4, threshold: 1, clock: () => now });
    for (let i = 0; i < 1000; i++) guard.recordFailure(`${i}@d`, `192.0.2.${i % 250}`);
    expect(guard.size).toBe(100);
    for (let i = 0; i < 50; i++) guard.recordFailure('x@d', `198.51.100.${i}`);
    now += 1;
    // Only the last four failed sources are remembered; an older one gets its check.
    expect(guard.admit('x@d', '198.51.100.0')).toBe(true);
    expect(guard.admit('x@d', '198.51.100.49')).toBe(false);
  });
});
