import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterNode } from './cluster-node.js';
import { dropPrefix, TEST_REDIS_URL, testPrefix, testRedisUp, until } from './cluster-test-support.js';

const up = await testRedisUp();
const prefix = testPrefix();
const nodes: ClusterNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.close();
  if (!up) return;
  const r = new Redis(TEST_REDIS_URL);
  await dropPrefix(r, prefix);
  r.disconnect();
});

async function limiterOn(id: string) {
  const node = await ClusterNode.connect({ url: TEST_REDIS_URL, prefix, identity: { id, run: id }, heartbeatMs: 100 });
  nodes.push(node);
  return node.sharedLimiter({ maxFailures: 9, windowMs: 60_000, blockMs: 30_000, clock: Date.now });
}

describe.skipIf(!up)('SharedAuthFailureLimiter', () => {
  it('failures spread over three nodes block the source on every node, as on one', async () => {
    const [a, b, c] = await Promise.all([limiterOn('a'), limiterOn('b'), limiterOn('c')]);
    const ip = '198.51.100.7';
    for (let i = 0; i < 3; i++) for (const l of [a, b, c]) l.recordFailure(ip);
    await until(() => a.isBlocked(ip) && b.isBlocked(ip) && c.isBlocked(ip), 'blocked everywhere');
    // Another source is not affected.
    expect(a.isBlocked('198.51.100.8')).toBe(false);
  });

  it('a few failures from one source on each node are not a block', async () => {
    const [a, b] = await Promise.all([limiterOn('d'), limiterOn('e')]);
    const ip = '198.51.100.9';
    for (let i = 0; i < 4; i++) a.recordFailure(ip);
    for (let i = 0; i < 4; i++) b.recordFailure(ip);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.isBlocked(ip) || b.isBlocked(ip)).toBe(false);
  });

  it('ignores malformed block announcements', async () => {
    const a = await limiterOn('f');
    for (const junk of ['', 'x', '1.2.3.4 notanumber', 'a'.repeat(500), '1.2.3.4 1']) a.handleMessage(junk);
    expect(a.isBlocked('1.2.3.4')).toBe(false);
    a.handleMessage(`1.2.3.4 ${Date.now() + 10_000}`);
    expect(a.isBlocked('1.2.3.4')).toBe(true);
  });
});
