import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterMembership, type NodeAdvert } from './cluster-membership.js';
import { dropPrefix, TEST_REDIS_URL, testPrefix, testRedisUp, until } from './cluster-test-support.js';

const up = await testRedisUp();
const prefix = testPrefix();
const conns: Redis[] = [];
const members: ClusterMembership[] = [];
afterAll(async () => {
  for (const m of members) await m.close();
  if (!up) return;
  const r = new Redis(TEST_REDIS_URL);
  await dropPrefix(r, prefix);
  r.disconnect();
  for (const c of conns) c.disconnect();
});

function advert(id: string, run = `${id}-1`): NodeAdvert {
  return { id, run, host: '127.0.0.1', sip: { udp: 5060 }, http: 8080, version: 't', startedAt: 'now' };
}

async function member(id: string, run?: string): Promise<{ m: ClusterMembership; redis: Redis }> {
  const redis = new Redis(TEST_REDIS_URL);
  conns.push(redis);
  const m = new ClusterMembership({ redis, prefix, self: advert(id, run), heartbeatMs: 100 });
  members.push(m);
  await m.start();
  return { m, redis };
}

describe.skipIf(!up)('ClusterMembership', () => {
  it('every node sees every other; a node that stops beating is down within three beats', async () => {
    const a = await member('a');
    const b = await member('b');
    const c = await member('c');
    await until(() => a.m.list().filter((x) => x.alive).length === 3, 'three members');
    expect(a.m.isLeader).toBe(true);
    expect(b.m.isLeader).toBe(false);
    expect(a.m.isAlive('c', 'c-1')).toBe(true);
    expect(a.m.isAlive('c', 'c-0')).toBe(false);
    const downs: string[] = [];
    a.m.on('down', (n) => downs.push(`${n.id}/${n.run}`));
    b.m.on('down', (n) => downs.push(`b saw ${n.id}`));
    // SIGKILL, as far as Redis can tell: no more beats, no farewell.
    (c.m as unknown as { timer: NodeJS.Timeout }).timer.close();
    c.redis.disconnect();
    const t0 = Date.now();
    await until(() => !a.m.isAlive('c', 'c-1'), 'c down');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(downs).toContain('c/c-1');
    expect(a.m.list().find((x) => x.id === 'c')).toMatchObject({ alive: false });
    // The leader leaves cleanly: the next one takes over at once.
    await a.m.close();
    await until(() => b.m.isLeader, 'b leads');
    expect(downs).toContain('b saw a');
  });

  it('a restart of one node id (new run) is the old run down and the new one up', async () => {
    const x = await member('x', 'x-1');
    const y = await member('y');
    await until(() => y.m.isAlive('x', 'x-1'));
    const downs: string[] = [];
    y.m.on('down', (n) => downs.push(n.run));
    (x.m as unknown as { timer: NodeJS.Timeout }).timer.close();
    await member('x', 'x-2');
    await until(() => y.m.isAlive('x', 'x-2'));
    expect(y.m.isAlive('x', 'x-1')).toBe(false);
    expect(downs).toEqual(['x-1']);
  });

  it('ignores adverts that are not ours', async () => {
    const raw = new Redis(TEST_REDIS_URL);
    conns.push(raw);
    await raw.hset(`${prefix}nodes`, 'junk', String(Date.now()), 'x'.repeat(100), '1');
    await raw.set(`${prefix}node:junk`, '{"id":"junk"', 'PX', 5000);
    const z = await member('z');
    await new Promise((r) => setTimeout(r, 250));
    expect(z.m.list().map((m) => m.id)).not.toContain('junk');
  });
});
