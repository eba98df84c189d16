/**
 * A cluster node over real sockets (REDIS_URL set): requests routed to it by another node carry a
 * Path entry with a cluster flow token; anything that only looks like one is not forwarded.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecretKey } from '../config/secret-key.js';
import { FlowTokenCodec } from '../proxy/flow-token.js';
import { TestHandset } from '../sip/testing/test-handset.js';
import { dropPrefix, TEST_REDIS_URL, testPrefix, testRedisUp } from './cluster-test-support.js';

const up = await testRedisUp();
const DOMAIN = 'cluster-routing.test';
const prefix = testPrefix();

describe.skipIf(!up)('a cluster node and Path tokens', () => {
  let h: TestHandset;
  beforeAll(async () => {
    h = await TestHandset.start({
      env: {
        REDIS_URL: TEST_REDIS_URL,
        HANDSET_REDIS_PREFIX: prefix,
        HANDSET_NODE_ID: 'route-a',
      },
    });
    await h.provision(DOMAIN, { '1': 'pw-1-xyz', '2': 'pw-2-xyz' });
  });
  afterAll(async () => {
    await h?.close();
    const r = new Redis(TEST_REDIS_URL);
    await dropPrefix(r, prefix);
    r.disconnect();
  });

  it('a TCP binding is stored with this node, its run, and a Path entry naming this node', async () => {
    const callee = await h.ua('tcp', '2', DOMAIN, 'pw-2-xyz');
    expect((await callee.register()).status).toBe(200);
    const [b] = h.server.location.lookup(`2@${DOMAIN}`);
    expect(b).toMatchObject({ node: 'route-a', run: h.server.cluster?.identity.run, transport: 'tcp' });
    expect(b!.path[0]).toMatch(new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${h.portOf('tcp')};transport=tcp;lr>$`));
  });

  it('an out-of-dialog INVITE routed by a Path-looking entry that this cluster did not sign is challenged, not forwarded', async () => {
    const victim = await h.ua('udp', '2', DOMAIN, 'pw-2-xyz');
    expect((await victim.register()).status).toBe(200);
    const attacker = await h.ua('udp', '1', DOMAIN, 'wrong');
    // A token of the right shape for the victim's address, signed with another key; and a Record-Route token.
    const forged = new FlowTokenCodec(
      createHmac('sha256', randomBytes(32)).update('handset cluster path tokens').digest(),
    );
    const target = {
      protocol: 'udp' as const,
      address: '127.0.0.1',
      port: Number(victim.contactUri.split(':').at(-1)),
    };
    const key = await loadSecretKey({ dataDir: h.dataDir, secretKey: undefined });
    const rrToken = new FlowTokenCodec(key).encode(target);
    for (const token of [forged.encode(target), rrToken, 'garbage.token', 'x'.repeat(600)]) {
      const invite = attacker.createRequest('INVITE', {
        to: '2',
        headers: [['Route', `<sip:${token}@127.0.0.1:${h.portOf('udp')};lr>`]],
        body: 'v=0\r\n',
      });
      const res = await attacker.sendRequest(invite).final();
      expect(res.status, token.slice(0, 40)).toBe(407);
    }
    expect(victim.requests('INVITE')).toHaveLength(0);
  });
});
