import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { WsTransport } from '@handset/sip-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Principal } from '../directory/principal.js';
import { EventBus } from '../events/event-bus.js';
import type { PlatformEvent } from '../events/platform-event.js';
import { EventStream, type EventStreamOptions } from './events-route.js';

const principal = (over: Partial<Principal>): Principal => ({
  userId: 'u-owner-a',
  email: 'owner@a.example',
  role: 'owner',
  domainId: 'dom-a',
  domain: 'a.example',
  via: 'token',
  ...over,
});

const TOKENS: Record<string, Principal> = {
  'owner-a': principal({}),
  'owner-b': principal({ userId: 'u-owner-b', domainId: 'dom-b', domain: 'b.example' }),
  'agent-a': principal({ userId: 'u-1001', role: 'agent' }),
  root: principal({ userId: 'u-root', role: 'superadmin', domainId: undefined, domain: undefined }),
};

const DOMAINS = [
  { id: 'dom-a', domain: 'a.example' },
  { id: 'dom-b', domain: 'b.example' },
];

function registration(domain: string, aor: string): PlatformEvent {
  return {
    type: 'registration.registered',
    domain,
    domainId: undefined,
    at: '2030-01-01T00:00:00.000Z',
    payload: {
      aor,
      contact: `sip:${aor}`,
      transport: 'ws',
      source: '127.0.0.1:1',
      userAgent: 'x'.repeat(64),
      instanceId: undefined,
      expiresAt: '2030-01-01T01:00:00.000Z',
    },
  };
}

function callStarted(domain: string, caller: string, callee: string): PlatformEvent {
  return {
    type: 'call.started',
    domain,
    domainId: undefined,
    at: '2030-01-01T00:00:00.000Z',
    payload: {
      callId: `${caller}-${callee}`,
      caller,
      callee,
      callerDevice: undefined,
      calleeDevice: undefined,
      startedAt: '2030-01-01T00:00:00.000Z',
      answeredAt: undefined,
    },
  };
}

const directory = (type: 'user.created' | 'group.updated', domainId: string, id: string): PlatformEvent => ({
  type,
  domain: undefined,
  domainId,
  at: '2030-01-01T00:00:00.000Z',
  payload: { id },
});

interface Message {
  type: string;
  payload: Record<string, unknown>;
  at: string;
}

/** A connected client that collects what the stream pushes. */
class StreamClient {
  readonly messages: Message[] = [];
  closeCode: number | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => this.messages.push(JSON.parse(d.toString()) as Message));
    ws.on('close', (code) => (this.closeCode = code));
  }

  static async open(url: string, opts: WebSocket.ClientOptions = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, opts);
    const client = new StreamClient(ws);
    await client.waitFor((m) => m.type === 'stream.ready');
    return client;
  }

  /** Resolves once a message matching `pred` arrived (2 s at most). */
  async waitFor(pred: (m: Message) => boolean): Promise<Message> {
    for (let i = 0; i < 200; i++) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (this.ws.readyState === WebSocket.CLOSED) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no such message; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
  }

  async closed(): Promise<number> {
    if (this.closeCode === undefined) await once(this.ws, 'close');
    return this.closeCode!;
  }

  types(): string[] {
    return this.messages.filter((m) => m.type !== 'stream.ready').map((m) => m.type);
  }
}

/** The HTTP status a refused upgrade gets (or 101). */
function upgradeStatus(url: string, opts: WebSocket.ClientOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', (err) => {
      if (!err.message.includes('Unexpected server response')) reject(err);
    });
  });
}

/** Sends raw bytes and resolves with what the server answered before closing. */
async function raw(port: number, bytes: string | Buffer): Promise<string> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  sock.on('error', () => {});
  sock.write(bytes);
  await Promise.race([once(sock, 'close'), new Promise((r) => setTimeout(r, 2000))]);
  sock.destroy();
  return got;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

let app: FastifyInstance;
let bus: EventBus;
let stream: EventStream;
let base: string;
let port: number;
const clients: StreamClient[] = [];

async function start(over: Partial<EventStreamOptions> = {}): Promise<void> {
  app = Fastify();
  app.get('/healthz', () => ({ status: 'ok' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  base = `ws://127.0.0.1:${port}/api/v1/events`;
  bus = new EventBus();
  stream = EventStream.attach({
    server: app.server,
    bus,
    auth: { authenticateToken: (t) => Promise.resolve(TOKENS[t]) },
    aorsOf: (p) => Promise.resolve(p.userId === 'u-1001' ? ['1001@a.example'] : []),
    findDomain: (d) => Promise.resolve(DOMAINS.find((x) => x.domain === d)),
    ...over,
  });
}

async function open(query: string, opts?: WebSocket.ClientOptions): Promise<StreamClient> {
  const c = await StreamClient.open(`${base}${query}`, opts);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await stream.close();
  await app.close();
});

describe('event stream auth', () => {
  beforeEach(() => start());

  it('accepts the token as query parameter, Bearer header or token header', async () => {
    const q = await open('?token=owner-a');
    const bearer = await open('', { headers: { authorization: 'Bearer owner-a' } });
    const header = await open('', { headers: { token: 'owner-a' } });
    for (const c of [q, bearer, header]) expect(c.messages[0]?.payload).toEqual({ role: 'owner', domain: 'a.example' });
  });

  it('answers 401 before the upgrade for a missing, wrong or oversized token', async () => {
    for (const q of ['', '?token=', '?token=nope', `?token=${'a'.repeat(10_000)}`]) {
      const r = await upgradeStatus(`${base}${q}`);
      expect(r.status, q.slice(0, 20)).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    expect(stream.connectionCount).toBe(0);
  });

  it('answers 503 when the token cannot be checked, and keeps serving', async () => {
    await stream.close();
    stream = EventStream.attach({
      server: app.server,
      bus,
      auth: { authenticateToken: () => Promise.reject(new Error('db down')) },
    });
    expect((await upgradeStatus(`${base}?token=owner-a`)).status).toBe(503);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    await stream.close();
    stream = EventStream.attach({
      server: app.server,
      bus,
      auth: { authenticateToken: (t) => Promise.resolve(TOKENS[t]) },
      aorsOf: () => Promise.reject(new Error('user lookup failed')),
    });
    expect((await upgradeStatus(`${base}?token=agent-a`)).status).toBe(503);
    expect((await upgradeStatus(`${base}?token=owner-a`)).status).toBe(101);
  });

  it('refuses another domain to an owner (403) and an unknown domain to a superadmin (404)', async () => {
    expect((await upgradeStatus(`${base}?token=owner-a&domain=b.example`)).status).toBe(403);
    expect((await upgradeStatus(`${base}?token=root&domain=nowhere.example`)).status).toBe(404);
    expect((await upgradeStatus(`${base}?token=owner-a&domain=A.example`)).status).toBe(101);
  });
});

describe('event stream visibility', () => {
  beforeEach(() => start());

  it('pushes an owner the events of their domain only', async () => {
    const a = await open('?token=owner-a');
    const b = await open('?token=owner-b');
    bus.publish(registration('b.example', '2001@b.example'));
    bus.publish(directory('user.created', 'dom-b', 'u-2001'));
    bus.publish(registration('a.example', '1001@a.example'));
    bus.publish(directory('user.created', 'dom-a', 'u-1002'));
    await a.waitFor((m) => m.type === 'user.created');
    await b.waitFor((m) => m.type === 'user.created');
    await settle();
    expect(a.types()).toEqual(['registration.registered', 'user.created']);
    expect(a.messages[1]).toEqual({
      type: 'registration.registered',
      payload: registration('a.example', '1001@a.example').payload,
      at: '2030-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(a.messages)).not.toContain('b.example');
    expect(b.types()).toEqual(['registration.registered', 'user.created']);
    expect(JSON.stringify(b.messages)).not.toContain('a.example');
  });

  it('pushes an agent only their own registrations, calls and user record', async () => {
    const agent = await open('?token=agent-a');
    bus.publish(registration('a.example', '1002@a.example'));
    bus.publish(callStarted('a.example', '1002@a.example', '1003@a.example'));
    bus.publish(directory('user.created', 'dom-a', 'u-1002'));
    bus.publish(directory('group.updated', 'dom-a', 'g-1'));
    bus.publish(registration('b.example', '1001@b.example'));
    bus.publish(registration('a.example', '1001@a.example'));
    bus.publish(callStarted('a.example', '1002@a.example', '1001@a.example'));
    bus.publish(directory('user.created', 'dom-a', 'u-1001'));
    await agent.waitFor((m) => m.type === 'user.created');
    await settle();
    expect(agent.types()).toEqual(['registration.registered', 'call.started', 'user.created']);
    expect(agent.messages[1]?.payload.aor).toBe('1001@a.example');
    expect(agent.messages[3]?.payload.id).toBe('u-1001');
  });

  it('pushes a superadmin every domain, or one with ?domain= (directory events too)', async () => {
    const all = await open('?token=root');
    const onlyB = await open('?token=root&domain=b.example');
    bus.publish(registration('a.example', '1001@a.example'));
    bus.publish(registration('b.example', '2001@b.example'));
    bus.publish(directory('user.created', 'dom-b', 'u-2001'));
    await all.waitFor((m) => m.type === 'user.created');
    await onlyB.waitFor((m) => m.type === 'user.created');
    await settle();
    expect(all.types()).toEqual(['registration.registered', 'registration.registered', 'user.created']);
    expect(onlyB.types()).toEqual(['registration.registered', 'user.created']);
    expect(onlyB.messages[1]?.payload.aor).toBe('2001@b.example');
  });
});

describe('event stream type filter', () => {
  beforeEach(() => start());

  it('narrows the stream with ?types= and refuses a malformed filter with 400', async () => {
    const c = await open('?token=owner-a&types=call.*,user.created');
    bus.publish(registration('a.example', '1001@a.example'));
    bus.publish(callStarted('a.example', '1001@a.example', '1002@a.example'));
    bus.publish(directory('group.updated', 'dom-a', 'g1'));
    bus.publish(directory('user.created', 'dom-a', 'u1'));
    await c.waitFor((m) => m.type === 'user.created');
    await settle();
    expect(c.types()).toEqual(['call.started', 'user.created']);
    for (const bad of ['drop%20table', 'call.*,' + 'x.y,'.repeat(40), '<script>'])
      expect((await upgradeStatus(`${base}?token=owner-a&types=${bad}`)).status, bad.slice(0, 20)).toBe(400);
  });
});

describe('event stream under hostile input', () => {
  it('closes on binary frames (1003), huge frames (1009) and message floods (1008), and keeps serving', async () => {
    await start({ maxMessagesPerInterval: 5 });
    const binary = await open('?token=owner-a');
    binary.ws.send(Buffer.from([0xff, 0x00, 0xfe]));
    expect(await binary.closed()).toBe(1003);
    const huge = await open('?token=owner-a');
    huge.ws.send('x'.repeat(100_000));
    expect(await huge.closed()).toBe(1009);
    const chatty = await open('?token=owner-a');
    for (let i = 0; i < 10; i++) chatty.ws.send('hello');
    expect(await chatty.closed()).toBe(1008);
    await settle();
    expect(stream.connectionCount).toBe(0);
    const fine = await open('?token=owner-a');
    bus.publish(registration('a.example', '1001@a.example'));
    await fine.waitFor((m) => m.type === 'registration.registered');
  });

  it('answers malformed upgrade requests with 400 and unknown paths with 404', async () => {
    await start();
    const noKey = await raw(
      port,
      'GET /api/v1/events?token=owner-a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(noKey).toMatch(/^HTTP\/1\.1 400/);
    const elsewhere = await raw(
      port,
      'GET /nothing HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(elsewhere).toMatch(/^HTTP\/1\.1 404/);
    await raw(port, Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x00, 0x00]));
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect(stream.connectionCount).toBe(0);
  });

  it('limits streams per address (429) and frees the slot when one closes', async () => {
    await start({ maxConnectionsPerIp: 3 });
    const held = [await open('?token=owner-a'), await open('?token=owner-a'), await open('?token=owner-a')];
    expect((await upgradeStatus(`${base}?token=owner-a`)).status).toBe(429);
    // Bad tokens count while they are checked, and free their slot when refused.
    held[0]!.ws.close();
    await held[0]!.closed();
    await settle();
    const results = await Promise.all(Array.from({ length: 20 }, () => upgradeStatus(`${base}?token=bad`)));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([401]));
    expect((await upgradeStatus(`${base}?token=owner-a`)).status).toBe(101);
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    await start({ maxBufferedBytes: 64 * 1024 });
    const sock: Socket = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write(
      'GET /api/v1/events?token=owner-a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await once(sock, 'data');
    sock.pause(); // never reads again: the kernel buffers fill, then ws buffers
    for (let i = 0; i < 200 && stream.connectionCount === 0; i++) await settle();
    expect(stream.connectionCount).toBe(1);
    const closed = once(sock, 'close');
    const big = registration('a.example', '1001@a.example');
    (big.payload as { userAgent: string }).userAgent = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 3000 && stream.connectionCount > 0; i++) {
      bus.publish(big);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(stream.connectionCount).toBe(0);
    expect(bus.subscriberCount).toBe(0);
    sock.resume();
    await closed;
  });

  it('drops a client that does not answer pings, and keeps one that does', async () => {
    await start({ pingIntervalMs: 40 });
    const deaf = await open('?token=owner-a', { autoPong: false });
    const alive = await open('?token=owner-a');
    expect(await deaf.closed()).toBe(1006);
    await new Promise((r) => setTimeout(r, 150));
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(stream.connectionCount).toBe(1);
  });

  it('closes the stream (4001) once its token is revoked', async () => {
    const live = new Set(['owner-a']);
    await start({
      pingIntervalMs: 30,
      revalidateMs: 0,
      auth: { authenticateToken: (t) => Promise.resolve(live.has(t) ? TOKENS[t] : undefined) },
    });
    const c = await open('?token=owner-a');
    live.delete('owner-a');
    expect(await c.closed()).toBe(4001);
  });
});

describe('event stream beside SIP over WebSocket', () => {
  it('leaves /sip to the SIP transport, which still receives SIP messages', async () => {
    await start();
    const received: string[] = [];
    const sip = WsTransport.attach({
      server: app.server,
      path: '/sip',
      delegate: { onMessage: (data) => received.push(data.toString()) },
    });
    try {
      const events = await open('?token=owner-a');
      const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip');
      await once(ws, 'open');
      expect(ws.protocol).toBe('sip');
      const options =
        'OPTIONS sip:a.example SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKabc\r\n' +
        'Max-Forwards: 70\r\nTo: <sip:a.example>\r\nFrom: <sip:1001@a.example>;tag=1\r\nCall-ID: x1\r\n' +
        'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
      ws.send(options);
      for (let i = 0; i < 100 && received.length === 0; i++) await settle();
      expect(received[0]).toContain('OPTIONS sip:a.example SIP/2.0');
      ws.close();
      bus.publish(registration('a.example', '1001@a.example'));
      await events.waitFor((m) => m.type === 'registration.registered');
      expect((await upgradeStatus(`ws://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    } finally {
      await sip.close();
    }
  });
});
