import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type BaresipAgent } from './support/baresip.js';
import { callAndHangUp } from './support/baresip-call.js';
import {
  clusterShared,
  sharedBindings,
  startBalancer,
  startClusterNode,
  type Balancer,
  type ClusterShared,
} from './support/cluster.js';
import { freePort, type HandsetProcess } from './support/handset.js';
import { interopEnv } from './support/interop-env.js';
import { extensions, provisionUsers } from './support/provision.js';
import { benchPassword } from './support/sipp-runs.js';
import { runSipp, sippScenario, startSipp, writeInjectionFile, type SippResult } from './support/sipp.js';

// Three Handset nodes on one PostgreSQL database and one Redis, behind Kamailio's dispatcher.
const DOMAIN = 'cluster.test';
const shared = await clusterShared();
const nodes: HandsetProcess[] = [];
let balancer: Balancer | undefined;
let workDir = '';

function logs(): string {
  return nodes
    .map((n, i) => `--- node-${i + 1} (tail) ---\n${n.output().split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

/** register-one.xml for `user` at `port`, from `localPort`. */
async function register(port: number, localPort: number, user: string, password = benchPassword(user)) {
  return runSipp({
    scenario: sippScenario('register-one.xml'),
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localPort,
    calls: 1,
    service: user,
    authPassword: password,
    keys: { domain: DOMAIN },
    timeoutMs: 20_000,
  });
}

/** One authenticated call per caller, each sent to `port`, to `callee`. */
async function callThrough(port: number, callee: string, callers: readonly string[], rate = 10): Promise<SippResult> {
  const inf = join(workDir, `callers-${callee}-${port}-${Date.now()}.csv`);
  await writeInjectionFile(
    inf,
    callers.map((u) => [u, benchPassword(u), DOMAIN]),
  );
  return runSipp({
    scenario: sippScenario('call-uac.xml'),
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localPort: await freePort(),
    calls: callers.length,
    rate,
    limit: 10,
    injectionFile: inf,
    service: callee,
    timeoutMs: 60_000,
  });
}

/** A SIPp callee answering `calls` calls on `localPort` (registered there beforehand). */
function answer(localPort: number, calls: number) {
  return startSipp({
    scenario: sippScenario('call-uas.xml'),
    transport: 'u1',
    localPort,
    calls,
    limit: calls,
    timeoutMs: 120_000,
  });
}

/** A baresip phone for `user`, registering at 127.0.0.1:`port` (a node or the balancer). */
function phone(user: string, port: number, transport: 'udp' | 'tcp', toneHz: number): Promise<BaresipAgent> {
  return startBaresip({ user, domain: DOMAIN, password: benchPassword(user), proxyPort: port, transport, toneHz });
}

describe.skipIf(!shared)('cluster: 3 nodes on PostgreSQL and Redis behind Kamailio dispatcher', () => {
  const s = shared as ClusterShared;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'handset-cluster-e2e-'));
    // One after the other: the first migrates the database.
    for (const id of ['node-1', 'node-2', 'node-3']) nodes.push(await startClusterNode(s, id, interopEnv));
    await provisionUsers(nodes[0]!, DOMAIN, extensions(2000, 40), benchPassword);
    balancer = await startBalancer(nodes.map((n) => n.sipPort));
  });
  afterAll(async () => {
    await balancer?.stop();
    for (const n of nodes) await n.stop();
    await s.drop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('every node reports itself and the other two in /healthz and /metrics', async () => {
    const health = (await (await fetch(`http://127.0.0.1:${nodes[2]!.httpPort}/healthz`)).json()) as {
      node: string;
      cluster: Array<{ id: string; alive: boolean; self: boolean }>;
      database: string;
    };
    expect(health.node).toBe('node-3');
    expect(health.database).toBe('postgres');
    expect(health.cluster.map((m) => [m.id, m.alive, m.self])).toEqual([
      ['node-1', true, false],
      ['node-2', true, false],
      ['node-3', true, true],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${nodes[0]!.httpPort}/metrics`)).text();
    expect(metrics).toContain('handset_node_info{node="node-1"} 1');
    for (const id of ['node-1', 'node-2', 'node-3'])
      expect(metrics).toContain(`handset_cluster_member_up{node="${id}"} 1`);
  });

  it('a user registered through each node is called by users calling through every node (all 9 pairs)', async () => {
    for (let i = 0; i < 3; i++) {
      const callee = String(2000 + i);
      const calleePort = await freePort();
      const reg = await register(nodes[i]!.sipPort, calleePort, callee);
      expect(reg.successful, `${reg.describe()}\n${logs()}`).toBe(1);
      expect((await sharedBindings(s, `${callee}@${DOMAIN}`)).map((b) => b.node)).toEqual([`node-${i + 1}`]);
      const uas = answer(calleePort, 3);
      await new Promise((r) => setTimeout(r, 500));
      for (let j = 0; j < 3; j++) {
        const caller = String(2010 + j);
        const uac = await callThrough(nodes[j]!.sipPort, callee, [caller]);
        expect(uac.successful, `callee on node-${i + 1}, caller via node-${j + 1}\n${uac.describe()}\n${logs()}`).toBe(
          1,
        );
      }
      const done = await uas.result;
      expect(done.successful, done.describe()).toBe(3);
    }
  });

  it('a phone on a TCP connection to node 3 and one on UDP at node 1 call each other (Path, flow tokens)', async () => {
    const agents: BaresipAgent[] = [];
    try {
      const tcp = await phone('2020', nodes[2]!.sipPort, 'tcp', 440);
      agents.push(tcp);
      const udp = await phone('2021', nodes[0]!.sipPort, 'udp', 880);
      agents.push(udp);
      await Promise.all([tcp.waitForRegistered(), udp.waitForRegistered()]);
      const [stored] = await sharedBindings(s, `2020@${DOMAIN}`);
      expect(stored).toMatchObject({ node: 'node-3', transport: 'tcp' });
      // Node 1 reaches the TCP phone only through node 3, which holds its connection.
      const a = await callAndHangUp(udp, tcp, 1_000);
      expect(a.callee.rtp.rxPackets, tcp.output()).toBeGreaterThan(0);
      const b = await callAndHangUp(tcp, udp, 1_000);
      expect(b.callee.rtp.rxPackets, udp.output()).toBeGreaterThan(0);
    } finally {
      for (const a of agents) await a.stop();
    }
  });

  it('a SIP password changed through node 1 is refused by node 3 within a second', async () => {
    await nodes[0]!.cli('superadmin', 'create', 'root@cluster.test', '--password', 'rootpassword1');
    const token = (await nodes[0]!.cli('tokens', 'create', 'root@cluster.test')).trim().split('\n').at(-1)!;
    const api = (port: number, path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    // Node 3 has the old password in its cache: it registers with it.
    const before = await register(nodes[2]!.sipPort, await freePort(), '2030');
    expect(before.successful, before.describe()).toBe(1);
    const list = (await (await api(nodes[0]!.httpPort, '/users?keyword=2030')).json()) as {
      docs: Array<{ id: string; ext: string }>;
    };
    const user = list.docs.find((u) => u.ext === '2030');
    expect(user, JSON.stringify(list)).toBeDefined();
    const changed = await api(nodes[0]!.httpPort, `/users/${user!.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ extPassword: 'a-new-secret-2030' }),
    });
    expect(changed.status, await changed.text()).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    const old = await register(nodes[2]!.sipPort, await freePort(), '2030');
    expect(old.successful, `the old password still works on node 3\n${old.describe()}`).toBe(0);
    const fresh = await register(nodes[2]!.sipPort, await freePort(), '2030', 'a-new-secret-2030');
    expect(fresh.successful, fresh.describe()).toBe(1);
  });

  it('through the balancer: one node SIGKILLed, calls go on through the others; its phones re-register and are reachable; no live registration lost or resurrected', async () => {
    const lb = balancer!;
    // Callees registered through the balancer (UDP): whichever node each landed on, every node reaches it.
    const callees = ['2031', '2032', '2033'];
    const calleePorts: number[] = [];
    for (const c of callees) {
      const port = await freePort();
      calleePorts.push(port);
      const r = await register(lb.port, port, c);
      expect(r.successful, `${r.describe()}\n${lb.output().slice(-2000)}`).toBe(1);
    }
    // A TCP phone held by node 2 (its connection dies with the node).
    const held = await phone('2034', nodes[1]!.sipPort, 'tcp', 440);
    let rescued: BaresipAgent | undefined;
    try {
      await held.waitForRegistered();
      const bindingsBefore = new Map<string, string[]>();
      for (const c of callees)
        bindingsBefore.set(
          c,
          (await sharedBindings(s, `${c}@${DOMAIN}`)).map((b) => b.node),
        );

      // Calls to the first callee through the balancer while node 2 is killed.
      const uas = answer(calleePorts[0]!, 40);
      await new Promise((r) => setTimeout(r, 500));
      const during = callThrough(lb.port, callees[0]!, extensions(2000, 20), 5);
      await new Promise((r) => setTimeout(r, 1_500));
      nodes[1]!.child.kill('SIGKILL');
      const killedAt = Date.now();
      const duringResult = await during;
      expect(duringResult.successful, duringResult.describe()).toBeGreaterThan(0);

      // A few seconds on: calls through the balancer go on with no failure.
      await new Promise((r) => setTimeout(r, Math.max(0, 5_000 - (Date.now() - killedAt))));
      const after = await callThrough(lb.port, callees[0]!, extensions(2000, 10), 5);
      expect(after.failed, `${after.describe()}\n${logs()}`).toBe(0);
      expect(after.successful).toBe(10);
      await uas.stop(2_000);

      // The killed node's TCP phone is unreachable: the call fails fast instead of ringing into nothing.
      const t0 = Date.now();
      const toDead = await callThrough(nodes[0]!.sipPort, '2034', ['2010']);
      expect(toDead.successful).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect((await sharedBindings(s, `2034@${DOMAIN}`)).length, 'the dead flow binding is gone').toBe(0);

      // It registers again through the balancer and is reachable.
      await held.stop();
      rescued = await phone('2034', lb.port, 'udp', 440);
      await rescued.waitForRegistered();
      const uasRescued = answer(calleePorts[1]!, 1);
      await new Promise((r) => setTimeout(r, 300));
      const caller = await phone('2035', nodes[2]!.sipPort, 'udp', 880);
      try {
        await caller.waitForRegistered();
        const call = await callAndHangUp(caller, rescued, 1_000);
        expect(call.callee.rtp.rxPackets).toBeGreaterThan(0);
      } finally {
        await caller.stop();
        await uasRescued.stop(500);
      }

      // Registrations made through the live nodes (and the UDP ones of the dead node) are all still there.
      for (const c of callees)
        expect(
          (await sharedBindings(s, `${c}@${DOMAIN}`)).map((b) => b.node),
          c,
        ).toEqual(bindingsBefore.get(c));
    } finally {
      await held.stop();
      await rescued?.stop();
    }
  });

  // Last: it blocks 127.0.0.1, the address every test here sends from.
  it('wrong passwords spread over two nodes, fewer than the limit on each, block the source on every node', async () => {
    const wrong = async (node: HandsetProcess) => {
      const r = await register(node.sipPort, await freePort(), '2036', 'not-the-password');
      expect(r.successful).toBe(0);
    };
    // HANDSET_AUTH_MAX_FAILURES is 10: five on each node, below it on each alone.
    for (let i = 0; i < 5; i++) {
      await wrong(nodes[0]!);
      await wrong(nodes[2]!);
    }
    await new Promise((r) => setTimeout(r, 300));
    const right = await register(nodes[0]!.sipPort, await freePort(), '2037');
    expect(right.successful, right.describe()).toBe(0);
    expect(right.errors + right.output).toContain('403');
  });
});
