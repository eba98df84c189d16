import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Binding } from '../registrar/binding.js';
import { LocationService } from '../registrar/location-service.js';
import { ClusterNode } from './cluster-node.js';
import { dropPrefix, TEST_REDIS_URL, testPrefix, testRedisUp, until } from './cluster-test-support.js';
import type { SharedLocation } from './shared-location.js';

const up = await testRedisUp();
const prefix = testPrefix();
const opened: Array<{ close(): Promise<void> | void }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  if (!up) return;
  const r = new Redis(TEST_REDIS_URL);
  await dropPrefix(r, prefix);
  r.disconnect();
});

const T0 = 1_900_000_000_000;

/** A node: its clock, its copy of the location (sweep not started: tests call it), the shared location. */
async function node(id: string, p = prefix) {
  const clock = { now: T0 };
  const cluster = await ClusterNode.connect({
    url: TEST_REDIS_URL,
    prefix: p,
    identity: { id, run: `${id}-run` },
    heartbeatMs: 100,
  });
  const replica = new LocationService({
    clock: () => clock.now,
    run: `${id}-run`,
    expireVia: (b) => cluster.expireBinding(b),
  });
  const shared: SharedLocation = await cluster.shareLocation(replica);
  (shared as unknown as { clock: () => number }).clock = () => clock.now;
  const events: string[] = [];
  for (const e of ['registered', 'refreshed', 'unregistered', 'expired'] as const)
    replica.on(e, (b) => events.push(`${e} ${b.aor} ${b.cseq}`));
  opened.push(cluster);
  return { clock, cluster, replica, shared, events };
}

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: 'alice@a.example',
    domain: 'a.example',
    key: 'sip:alice@192.0.2.1:5060',
    contactUri: 'sip:alice@192.0.2.1:5060',
    path: [],
    callId: 'call-1',
    cseq: 1,
    expiresAt: T0 + 3600_000,
    transport: 'udp',
    sourceAddress: '192.0.2.1',
    sourcePort: 5060,
    receivedAt: T0,
    ...over,
  };
}

describe.skipIf(!up)('SharedLocation', () => {
  it('a binding registered through one node is found by every node, with the node that holds it', async () => {
    const [n1, n2, n3] = await Promise.all([node('n1'), node('n2'), node('n3')]);
    expect(await n1.shared.save(binding({ aor: 'a1@a.example' }))).toBe(true);
    await until(() => n2.replica.lookup('a1@a.example').length === 1 && n3.replica.lookup('a1@a.example').length === 1);
    expect(n3.replica.lookup('a1@a.example')[0]).toMatchObject({ node: 'n1', run: 'n1-run', cseq: 1 });
    // The event is the writing node's alone: the cluster reports each change once.
    expect(n1.events).toEqual(['registered a1@a.example 1']);
    expect([...n2.events, ...n3.events]).toEqual([]);
    // A node started later reads it from Redis.
    const n4 = await node('n4');
    expect(n4.replica.lookup('a1@a.example')).toHaveLength(1);
  });

  it('an older REGISTER (same Call-ID, lower CSeq) through another node never replaces a newer one', async () => {
    const [n1, n2] = await Promise.all([node('o1'), node('o2')]);
    const aor = 'order@a.example';
    expect(await n2.shared.save(binding({ aor, cseq: 4, contactUri: 'sip:new@192.0.2.9' }))).toBe(true);
    expect(await n1.shared.save(binding({ aor, cseq: 2, contactUri: 'sip:old@192.0.2.8' }))).toBe(false);
    await until(() => n1.replica.lookup(aor)[0]?.cseq === 4);
    expect(n2.replica.lookup(aor)[0]).toMatchObject({ cseq: 4, contactUri: 'sip:new@192.0.2.9' });
    // A new Call-ID (the phone restarted) replaces whatever the CSeq (RFC 3261 §10.3 step 7).
    expect(await n1.shared.save(binding({ aor, callId: 'call-2', cseq: 1 }))).toBe(true);
    await until(() => n2.replica.lookup(aor)[0]?.callId === 'call-2');
    // An unregister by an older request is refused too.
    const held = n1.replica.lookup(aor)[0]!;
    expect(await n1.shared.remove(held, { mode: 'request', callId: 'call-2', cseq: 1 })).toBe(false);
    expect(await n1.shared.remove(held, { mode: 'request', callId: 'call-2', cseq: 2 })).toBe(true);
    await until(() => n2.replica.lookup(aor).length === 0);
    expect(n1.events).toContain('unregistered order@a.example 1');
  });

  it('regression: a stale copy on one node never expires a binding another node refreshed', async () => {
    const [n1, n2] = await Promise.all([node('s1'), node('s2')]);
    const aor = 'stale@a.example';
    const first = binding({ aor, cseq: 2, expiresAt: T0 + 60_000 });
    expect(await n1.shared.save(first)).toBe(true);
    await until(() => n2.replica.lookup(aor).length === 1);
    n2.clock.now = T0 + 30_000;
    expect(await n2.shared.save(binding({ aor, cseq: 4, expiresAt: T0 + 3_600_000, receivedAt: T0 + 30_000 }))).toBe(
      true,
    );
    await until(() => n1.replica.lookup(aor)[0]?.cseq === 4);
    // Node 1 missed the refresh (it was restarting, its subscription lost): its copy is the old one.
    n1.replica.replicate({ ...first, rev: 1 });
    n1.clock.now = T0 + 61_000;
    n1.replica.sweep();
    await until(() => n1.replica.lookup(aor)[0]?.cseq === 4, 'fresh copy taken from the shared record');
    expect(n2.replica.lookup(aor)).toHaveLength(1);
    expect(n1.events.filter((e) => e.startsWith('expired stale'))).toEqual([]);
    // Once the shared record itself has expired, one node expires it, for everyone, once.
    n1.clock.now = n2.clock.now = T0 + 3_600_001;
    n1.replica.sweep();
    n2.replica.sweep();
    await until(() => n1.replica.bindingsByKey(aor) === undefined && n2.replica.bindingsByKey(aor) === undefined);
    expect([...n1.events, ...n2.events].filter((e) => e.startsWith('expired stale'))).toEqual([
      'expired stale@a.example 4',
    ]);
  });

  it('drops the stream-flow bindings of a dead node run, keeps its UDP ones', async () => {
    const [n1, n2] = await Promise.all([node('d1'), node('d2')]);
    await n1.shared.save(binding({ aor: 'ws@a.example', transport: 'ws', flowId: 'ws-1' }));
    await n1.shared.save(binding({ aor: 'udp@a.example' }));
    await until(
      () => n2.replica.lookup('ws@a.example').length === 1 && n2.replica.lookup('udp@a.example').length === 1,
    );
    expect(n2.cluster.reachable(n2.replica.lookup('ws@a.example')[0]!)).toBe(false); // d1 never joined: not beating
    expect(n2.cluster.reachable(n2.replica.lookup('udp@a.example')[0]!)).toBe(true);
    expect(await n2.shared.dropFlowsOf('d1', 'd1-run')).toBe(1);
    await until(() => n1.replica.lookup('ws@a.example').length === 0);
    expect(n1.replica.lookup('udp@a.example')).toHaveLength(1);
  });

  it('ignores malformed and foreign messages on the location channel', async () => {
    const p = testPrefix();
    const n1 = await node('m1', p);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      for (const junk of [
        'not json',
        'null',
        '{"op":"s","b":{"aor":1}}',
        '{"op":"s","b":{"aor":"x@a.example","key":"k","domain":"a.example"}}',
        '{"op":"d","aor":"x@a.example"}',
        JSON.stringify({ op: 's', b: { ...binding(), rev: 1, path: 'x'.repeat(70_000) } }),
      ])
        await raw.publish(`${p}location`, junk);
      await n1.shared.save(binding({ aor: 'after@a.example' }));
      await new Promise((r) => setTimeout(r, 50));
      expect(n1.replica.size).toBe(1);
    } finally {
      await dropPrefix(raw, p);
      raw.disconnect();
    }
  });
});
