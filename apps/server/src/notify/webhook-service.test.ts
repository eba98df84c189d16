import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import type { PlatformEvent } from '../events/platform-event.js';
import { openStore } from '../store/open-store.js';
import { domains } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { DEFAULT_RETRY_POLICY, retryDelay } from './retry-policy.js';
import { WebhookService, type WebhookServiceOptions } from './webhook-service.js';
import { webhookDeliveries, webhooks } from './webhook-tables.js';

/** A webhook receiver on 127.0.0.1 that checks signatures and answers as told. */
class Receiver {
  readonly hits: Array<{ at: number; body: string; headers: IncomingMessage['headers']; signatureOk: boolean }> = [];
  /** Status codes for the next requests, in order (then 200). `hang` never answers. */
  script: Array<number | 'hang'> = [];
  secret = '';
  private readonly hung: ServerResponse[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const r = new Receiver(server);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        r.hits.push({ at: Date.now(), body, headers: req.headers, signatureOk: r.verify(req, body) });
        const next = r.script.shift() ?? 200;
        if (next === 'hang') r.hung.push(res);
        else res.writeHead(next, next === 302 ? { location: 'http://127.0.0.1:1/' } : {}).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }

  /** What a receiver is told to do: HMAC-SHA256 of `<timestamp>.<body>`, compared in constant time. */
  verify(req: IncomingMessage, body: string): boolean {
    const ts = req.headers['x-handset-timestamp'];
    const sig = req.headers['x-handset-signature'];
    if (typeof ts !== 'string' || typeof sig !== 'string' || this.secret === '') return false;
    const want = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(`${ts}.${body}`).digest('hex')}`);
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const until = async (pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const ROOT: Principal = {
  userId: 'root',
  email: undefined,
  role: 'superadmin',
  domainId: undefined,
  domain: undefined,
  via: 'token',
};

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

describe('retryDelay', () => {
  it('doubles from the base, caps at the maximum and jitters within the upper half', () => {
    const p = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, p, () => 0))).toEqual([500, 1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, p, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    expect(retryDelay(40, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(2_700_000);
  });
});

describe.each(testBackends(pgdb))('WebhookService on %s', (_name, database) => {
  let store: Store;
  let receiver: Receiver;
  let service: WebhookService;
  const secrets = new SecretBox(randomBytes(32));
  let owner: Principal;
  let ownerB: Principal;
  let domainA: string;

  const make = (over: Partial<WebhookServiceOptions> = {}) =>
    new WebhookService({
      store,
      secrets,
      domains: {
        get: async (_p, id) => {
          const [row] = await store.db
            .select()
            .from(domains)
            .where(sql`id = ${id}`);
          if (!row) throw DirectoryError.notFound('domain');
          return row;
        },
      },
      retry: { baseDelayMs: 40, maxDelayMs: 1000, maxAttempts: 4 },
      random: () => 0,
      reloadIntervalMs: 60_000,
      ...over,
    });

  const event = (type: PlatformEvent['type'], domain: string, n = 1): PlatformEvent =>
    ({
      type,
      domain,
      domainId: undefined,
      at: '2030-01-01T00:00:00.000Z',
      payload: { id: `cdr-${n}`, callId: `call-${n}`, caller: '1001@a.example', callee: '1002@a.example' },
    }) as PlatformEvent;

  const deliveriesOf = async (id: string) =>
    (await service.deliveries(owner, id, { pageSize: 100 })).docs.sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime(),
    );

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    const [a] = await store.db.insert(domains).values({ domain: 'a.example' }).returning();
    const [b] = await store.db.insert(domains).values({ domain: 'b.example' }).returning();
    domainA = a!.id;
    owner = { userId: 'u-a', email: 'o@a.example', role: 'owner', domainId: a!.id, domain: 'a.example', via: 'token' };
    ownerB = { userId: 'u-b', email: 'o@b.example', role: 'owner', domainId: b!.id, domain: 'b.example', via: 'token' };
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    if (!database) return;
    await store.db.delete(webhooks);
    receiver = await Receiver.start();
    service = make();
    await service.start();
  });
  afterEach(async () => {
    if (!database) return;
    await service.close();
    await receiver.close();
  });

  it.skipIf(!database)('has exactly the columns the Drizzle tables declare', async () => {
    for (const table of [webhooks, webhookDeliveries]) {
      const cfg = getTableConfig(table);
      const result = (await store.db.execute(
        sql`select column_name, is_nullable from information_schema.columns where table_schema = current_schema() and table_name = ${cfg.name} order by column_name`,
      )) as unknown as { rows: Array<{ column_name: string; is_nullable: string }> };
      const declared = cfg.columns.map((c) => ({ column_name: c.name, is_nullable: c.notNull ? 'NO' : 'YES' }));
      declared.sort((x, y) => x.column_name.localeCompare(y.column_name));
      expect(result.rows.map((r) => ({ ...r }))).toEqual(declared);
    }
  });

  it.skipIf(!database)('wants only the event types an active webhook subscribes to (and domain.deleted)', async () => {
    expect(service.wants('call.ended')).toBe(false);
    expect(service.wants('registration.refreshed')).toBe(false);
    expect(service.wants('domain.deleted')).toBe(true);
    const hook = await service.create(owner, { url: receiver.url, events: ['call.*'] });
    expect(service.wants('call.ended')).toBe(true);
    expect(service.wants('call.started')).toBe(true);
    expect(service.wants('cdr.created')).toBe(false);
    expect(service.wants('registration.refreshed')).toBe(false);
    await service.update(owner, hook.id, { active: false });
    expect(service.wants('call.ended')).toBe(false);
    await service.update(owner, hook.id, { active: true });
    expect(service.wants('call.ended')).toBe(true);
    await service.remove(owner, hook.id);
    expect(service.wants('call.ended')).toBe(false);
  });

  it.skipIf(!database)('delivers subscribed events of its domain, signed over timestamp and body', async () => {
    const hook = await service.create(owner, { url: receiver.url, events: ['cdr.*'] });
    receiver.secret = hook.secret;
    expect(hook.secret).toMatch(/^whsec_/);
    service.handle(event('call.started', 'a.example'));
    service.handle(event('cdr.created', 'b.example'));
    service.handle(event('cdr.created', 'a.example', 7));
    await until(() => receiver.hits.length >= 1);
    await service.drain();
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.hits).toHaveLength(1);
    const hit = receiver.hits[0]!;
    expect(hit.signatureOk).toBe(true);
    expect(hit.headers['x-handset-event']).toBe('cdr.created');
    expect(hit.headers['content-type']).toBe('application/json');
    const body = JSON.parse(hit.body) as { id: string; type: string; domain: string; payload: { id: string } };
    expect(body).toMatchObject({ type: 'cdr.created', domain: 'a.example', payload: { id: 'cdr-7' } });
    expect(hit.headers['x-handset-delivery']).toBe(body.id);
    await until(async () => (await deliveriesOf(hook.id))[0]?.status === 'delivered');
    const [log] = await deliveriesOf(hook.id);
    expect(log).toMatchObject({
      id: body.id,
      status: 'delivered',
      attempts: 1,
      responseCode: 200,
      lastError: undefined,
    });
    expect(log!.body).toBe(hit.body);
    // A tampered body or a wrong secret does not verify.
    receiver.secret = 'whsec_other';
    expect(receiver.verify({ headers: hit.headers } as IncomingMessage, hit.body)).toBe(false);
  });

  it.skipIf(!database)('retries failures with growing delays and records each attempt', async () => {
    const hook = await service.create(owner, { url: receiver.url, events: ['*'] });
    receiver.secret = hook.secret;
    receiver.script = [500, 503];
    service.handle(event('cdr.created', 'a.example'));
    await until(() => receiver.hits.length >= 3);
    await until(async () => (await deliveriesOf(hook.id))[0]?.status === 'delivered');
    const [log] = await deliveriesOf(hook.id);
    expect(log).toMatchObject({ status: 'delivered', attempts: 3, responseCode: 200 });
    const [h1, h2, h3] = receiver.hits;
    // random() = 0: waits of base/2 = 20 ms, then 40 ms.
    expect(h2!.at - h1!.at).toBeGreaterThanOrEqual(19);
    expect(h3!.at - h2!.at).toBeGreaterThanOrEqual(39);
    expect(new Set(receiver.hits.map((h) => JSON.parse(h.body).id as string)).size).toBe(1);
    expect(receiver.hits.every((h) => h.signatureOk)).toBe(true);
  });

  it.skipIf(!database)('gives up after the last attempt and keeps the last error and status', async () => {
    const hook = await service.create(owner, { url: receiver.url });
    receiver.script = [500, 500, 500, 500, 500];
    service.handle(event('cdr.created', 'a.example'));
    await until(async () => (await deliveriesOf(hook.id))[0]?.status === 'failed');
    const [log] = await deliveriesOf(hook.id);
    expect(log).toMatchObject({
      status: 'failed',
      attempts: 4,
      responseCode: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: undefined,
    });
    expect(receiver.hits).toHaveLength(4);
  });

  it.skipIf(!database)(
    'records refused connections, timeouts and redirects (which it does not follow) as failures',
    async () => {
      await service.close();
      // Long enough that the local receiver's 302 never misses it on a loaded machine (it failed once
      // at 150 ms, next to other test files), short enough that the hanging one times out quickly.
      service = make({ timeoutMs: 1000, retry: { maxAttempts: 1 } });
      await service.start();
      const closed = await Receiver.start();
      const deadUrl = closed.url;
      await closed.close();
      const dead = await service.create(owner, { url: deadUrl });
      const slow = await service.create(owner, {
        url: receiver.url.replace('/hook', '/slow'),
        events: ['cdr.created'],
      });
      await service.update(owner, slow.id, { active: false });
      service.handle(event('cdr.created', 'a.example'));
      await until(async () => (await deliveriesOf(dead.id))[0]?.status === 'failed');
      expect((await deliveriesOf(dead.id))[0]?.lastError).toBe('ECONNREFUSED');

      await service.update(owner, dead.id, { active: false });
      receiver.script = ['hang'];
      await service.update(owner, slow.id, { active: true });
      service.handle(event('cdr.created', 'a.example', 1));
      await until(async () => (await deliveriesOf(slow.id))[0]?.status === 'failed');
      expect((await deliveriesOf(slow.id))[0]).toMatchObject({ lastError: 'timed out', responseCode: undefined });

      receiver.script = [302];
      service.handle(event('cdr.created', 'a.example', 2));
      await until(async () => (await deliveriesOf(slow.id)).filter((d) => d.status === 'failed').length === 2);
      expect((await deliveriesOf(slow.id))[1]).toMatchObject({ lastError: 'HTTP 302', responseCode: 302 });
      expect(receiver.hits).toHaveLength(2); // the redirect target was never called
    },
  );

  it.skipIf(!database)('closes without waiting for a receiver that hangs, leaving the delivery pending', async () => {
    const hook = await service.create(owner, { url: receiver.url });
    receiver.script = ['hang'];
    service.handle(event('cdr.created', 'a.example'));
    await until(() => receiver.hits.length === 1);
    const started = Date.now();
    await service.close();
    expect(Date.now() - started).toBeLessThan(2000); // the request timeout is 10 s
    const [log] = await deliveriesOf(hook.id);
    expect(log).toMatchObject({ status: 'pending', attempts: 1, lastError: 'aborted at shutdown' });
  });

  it.skipIf(!database)('keeps pending deliveries across a restart and delivers them when due', async () => {
    await service.close();
    service = make({ retry: { baseDelayMs: 5000 } });
    await service.start();
    const hook = await service.create(owner, { url: receiver.url, events: ['cdr.created'] });
    receiver.secret = hook.secret;
    receiver.script = [500];
    service.handle(event('cdr.created', 'a.example', 1));
    await until(async () => (await deliveriesOf(hook.id))[0]?.lastError === 'HTTP 500');
    await service.close();
    expect(receiver.hits).toHaveLength(1);
    // A new process whose clock is past the retry time picks the row up from the table.
    service = make({ clock: () => Date.now() + 10_000 });
    await service.start();
    await until(async () => (await deliveriesOf(hook.id))[0]?.status === 'delivered');
    expect(receiver.hits).toHaveLength(2);
    expect(new Set(receiver.hits.map((h) => h.headers['x-handset-delivery'])).size).toBe(1);
    expect(receiver.hits.every((h) => h.signatureOk)).toBe(true);
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ attempts: 2, responseCode: 200 });
  });

  it.skipIf(!database)('queues at most maxPendingPerWebhook deliveries and drops the rest', async () => {
    await service.close();
    service = make({ maxPendingPerWebhook: 3 }); // not started: it queues but does not send
    const hook = await service.create(owner, { url: receiver.url });
    for (let i = 0; i < 10; i++) service.handle(event('cdr.created', 'a.example', i));
    await service.drain();
    expect((await service.deliveries(owner, hook.id)).totalDocs).toBe(3);
    expect(receiver.hits).toHaveLength(0);
  });

  it.skipIf(!database)('stores the secret sealed and issues a new one on rotation', async () => {
    const hook = await service.create(owner, { url: receiver.url });
    const [row] = await store.db
      .select()
      .from(webhooks)
      .where(sql`id = ${hook.id}`);
    expect(row!.secretEnc).not.toContain(hook.secret);
    expect(JSON.stringify(await service.get(owner, hook.id))).not.toContain(hook.secret);
    const rotated = await service.update(owner, hook.id, { rotateSecret: true });
    expect('secret' in rotated && rotated.secret).toMatch(/^whsec_/);
    receiver.secret = (rotated as { secret: string }).secret;
    service.handle(event('cdr.created', 'a.example'));
    await until(() => receiver.hits.length === 1);
    expect(receiver.hits[0]!.signatureOk).toBe(true);
  });

  it.skipIf(!database)(
    'refuses URLs that are not http(s), unknown fields and bad filters, naming the field',
    async () => {
      for (const url of ['ftp://x.example/', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url', '', 'http://']) {
        const err = (await service.create(owner, { url }).catch((e: unknown) => e)) as DirectoryError;
        expect(err.code, url).toBe('VALIDATION');
        expect(Object.keys(err.fields ?? {}), url).toEqual(['url']);
      }
      const unknown = (await service
        .create(owner, { url: receiver.url, admin: true })
        .catch((e: unknown) => e)) as DirectoryError;
      expect(unknown.fields).toEqual({ admin: 'unknown field' });
      const filter = (await service
        .create(owner, { url: receiver.url, events: ['*', 'drop table'] })
        .catch((e: unknown) => e)) as DirectoryError;
      expect(Object.keys(filter.fields ?? {})).toEqual(['events.1']);
      const notObject = (await service.create(owner, 'x').catch((e: unknown) => e)) as DirectoryError;
      expect(notObject.code).toBe('VALIDATION');
      expect(await service.list(owner)).toEqual([]);
    },
  );

  it.skipIf(!database)(
    'lets only the domain owner or a superadmin manage webhooks, and hides other tenants',
    async () => {
      const hook = await service.create(owner, { url: receiver.url });
      for (const role of ['admin', 'agent'] as const) {
        const p = { ...owner, role };
        expect(((await service.list(p).catch((e: unknown) => e)) as DirectoryError).code).toBe('FORBIDDEN');
        expect(((await service.create(p, { url: receiver.url }).catch((e: unknown) => e)) as DirectoryError).code).toBe(
          'FORBIDDEN',
        );
        expect(((await service.get(p, hook.id).catch((e: unknown) => e)) as DirectoryError).code).toBe('FORBIDDEN');
      }
      for (const attempt of [
        () => service.get(ownerB, hook.id),
        () => service.update(ownerB, hook.id, { url: 'http://evil.example/' }),
        () => service.remove(ownerB, hook.id),
        () => service.deliveries(ownerB, hook.id),
        () => service.get(owner, 'not-a-uuid'),
        () => service.create(ownerB, { url: receiver.url, domainId: domainA }),
        () => service.list(ownerB, { domainId: domainA }),
      ])
        expect(((await attempt().catch((e: unknown) => e)) as DirectoryError).code).toBe('NOT_FOUND');
      expect(await service.list(ownerB)).toEqual([]);
      expect((await service.get(owner, hook.id)).url).toBe(receiver.url);

      const err = (await service.create(ROOT, { url: receiver.url }).catch((e: unknown) => e)) as DirectoryError;
      expect(err.fields).toHaveProperty('domainId');
      const forB = await service.create(ROOT, { url: receiver.url, domainId: ownerB.domainId });
      expect(forB.domain).toBe('b.example');
      expect((await service.list(ROOT)).map((w) => w.domain).sort()).toEqual(['a.example', 'b.example']);
      expect((await service.list(ROOT, { domainId: ownerB.domainId })).map((w) => w.id)).toEqual([forB.id]);
      expect((await service.list(ownerB)).map((w) => w.id)).toEqual([forB.id]);
      await service.remove(owner, hook.id);
      expect(await service.list(owner)).toEqual([]);
    },
  );

  it.skipIf(!database)('pages the delivery log newest first and filters it by status', async () => {
    await service.close();
    let t = Date.now();
    // Distinct creation times give a stable order; not started, so nothing is sent.
    service = make({ clock: () => (t += 1) });
    const hook = await service.create(owner, { url: receiver.url });
    for (let i = 0; i < 5; i++) {
      service.handle(event('cdr.created', 'a.example', i));
      await service.drain();
    }
    const page = await service.deliveries(owner, hook.id, { page: 2, pageSize: 2 });
    expect(page).toMatchObject({ totalDocs: 5, limit: 2, totalPages: 3, page: 2 });
    expect(page.docs.map((d) => (JSON.parse(d.body) as { payload: { id: string } }).payload.id)).toEqual([
      'cdr-2',
      'cdr-1',
    ]);
    expect((await service.deliveries(owner, hook.id, { status: 'delivered' })).totalDocs).toBe(0);
    const bad = (await service
      .deliveries(owner, hook.id, { page: -1, status: 'x' })
      .catch((e: unknown) => e)) as DirectoryError;
    expect(Object.keys(bad.fields ?? {}).sort()).toEqual(['page', 'status']);
  });
});
