/**
 * The event stream and webhooks inside a whole Handset over real sockets: SIP over WebSocket at
 * /sip keeps working beside /api/v1/events, and a registration and a call show up on the
 * owner's stream, the agent's stream and the domain's webhook.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { eventually, TestHandset } from '../sip/testing/test-handset.js';

const DOMAIN = 'events.test';

interface Pushed {
  type: string;
  payload: Record<string, unknown>;
}

/** A stream client that keeps what it gets. */
async function stream(port: number, token: string): Promise<{ ws: WebSocket; got: Pushed[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events?token=${encodeURIComponent(token)}`);
  const got: Pushed[] = [];
  ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString()) as Pushed));
  await eventually(() => got.some((m) => m.type === 'stream.ready'), 5000, 'stream ready');
  return { ws, got };
}

describe('events and webhooks in a running Handset', () => {
  let h: TestHandset;
  let receiver: Server;
  const hooks: Array<{ type: string; ok: boolean }> = [];
  let secret = '';
  const tokens: Record<'owner' | 'agent', string> = { owner: '', agent: '' };

  beforeAll(async () => {
    h = await TestHandset.start();
    const s = h.server.services;
    const domainId = (await s.domains.create(CLI_PRINCIPAL, { domain: DOMAIN })).id;
    for (const [who, ext, role] of [
      ['owner', '100', 'owner'],
      ['agent', '101', 'agent'],
      [undefined, '102', 'agent'],
    ] as const) {
      const u = await s.users.create(CLI_PRINCIPAL, domainId, { ext, extPassword: `pw-${ext}-secret`, role });
      if (who) tokens[who] = (await s.tokens.create(CLI_PRINCIPAL, u.id, 'test')).token;
    }
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const ts = String(req.headers['x-handset-timestamp']);
        const want = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
        hooks.push({
          type: (JSON.parse(body) as { type: string }).type,
          ok: req.headers['x-handset-signature'] === want,
        });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('pushes registrations and calls to the owner, the agent and the webhook; SIP over WS still works', async () => {
    const port = h.server.httpPort;
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`,
        events: ['call.*', 'cdr.created'],
      }),
    });
    expect(created.status).toBe(201);
    secret = ((await created.json()) as { secret: string }).secret;

    const owner = await stream(port, tokens.owner);
    const agent = await stream(port, tokens.agent);
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events?token=hst_nope`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);

    const a = await h.ua('ws', '101', DOMAIN, 'pw-101-secret');
    const b = await h.ua('udp', '102', DOMAIN, 'pw-102-secret');
    expect((await a.register()).status).toBe(200); // SIP over WebSocket at /sip
    expect((await b.register()).status).toBe(200);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite('102');
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    expect((await a.bye(dialog)).status).toBe(200);

    const types = (got: Pushed[]) => got.map((m) => m.type).filter((t) => t !== 'stream.ready');
    await eventually(() => types(owner.got).includes('cdr.created'), 5000, 'owner sees the CDR');
    expect(types(owner.got)).toEqual(
      expect.arrayContaining(['registration.registered', 'call.started', 'call.answered', 'call.ended', 'cdr.created']),
    );
    expect(
      owner.got
        .filter((m) => m.type === 'registration.registered')
        .map((m) => m.payload.aor)
        .sort(),
    ).toEqual([`101@${DOMAIN}`, `102@${DOMAIN}`]);
    await eventually(() => types(agent.got).includes('cdr.created'), 5000, 'agent sees the CDR');
    // The agent sees its own registration, not 102's.
    expect(agent.got.filter((m) => m.type === 'registration.registered').map((m) => m.payload.aor)).toEqual([
      `101@${DOMAIN}`,
    ]);

    await eventually(() => hooks.some((x) => x.type === 'cdr.created'), 10_000, 'webhook gets the CDR');
    expect(hooks.map((x) => x.type).sort()).toEqual(['call.answered', 'call.ended', 'call.started', 'cdr.created']);
    expect(hooks.every((x) => x.ok)).toBe(true);
    owner.ws.close();
    agent.ws.close();
  });
});

const REDIS_URL = process.env.HANDSET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await (async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
})();

describe.skipIf(!redisUp)('two Handsets sharing REDIS_URL', () => {
  const nodes: TestHandset[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.close();
  });

  it("shows a registration on one node in the other node's event stream", async () => {
    for (let i = 0; i < 2; i++) nodes.push(await TestHandset.start({ env: { REDIS_URL } }));
    const [a, b] = nodes as [TestHandset, TestHandset];
    const tokenOn = async (n: TestHandset): Promise<string> => {
      const s = n.server.services;
      const domainId = (await s.domains.create(CLI_PRINCIPAL, { domain: 'cluster.test' })).id;
      const u = await s.users.create(CLI_PRINCIPAL, domainId, {
        ext: '200',
        extPassword: 'pw-200-secret',
        role: 'owner',
      });
      return (await s.tokens.create(CLI_PRINCIPAL, u.id, 'test')).token;
    };
    await tokenOn(a);
    const watcher = await stream(b.server.httpPort, await tokenOn(b));
    const ua = await a.ua('udp', '200', 'cluster.test', 'pw-200-secret');
    expect((await ua.register()).status).toBe(200);
    await eventually(() => watcher.got.some((m) => m.type === 'registration.registered'), 5000, 'relayed registration');
    expect(watcher.got.find((m) => m.type === 'registration.registered')?.payload.aor).toBe('200@cluster.test');
    watcher.ws.close();
  }, 60_000);
});
