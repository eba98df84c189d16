import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { WebhookService } from '../notify/webhook-service.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { registerApi } from './api-v1.js';
import { buildHttpApp } from './http-app.js';
import { registerWebhookRoutes } from './webhooks-routes.js';

type Actor = 'root' | 'ownerA' | 'adminA' | 'agentA' | 'ownerB';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

describe.each(testBackends(pgdb))('/api/v1/webhooks on %s', (_name, database) => {
  let store: Store;
  let services: DirectoryServices;
  let webhooks: WebhookService;
  let app: FastifyInstance;
  let receiver: Server;
  let receiverUrl: string;
  const received: string[] = [];
  const tokens = {} as Record<Actor, string>;
  let domainA: string;
  let domainB: string;

  const call = (actor: Actor | undefined, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    app.inject({
      method,
      url,
      headers: actor ? { authorization: `Bearer ${tokens[actor]}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    const secrets = new SecretBox(randomBytes(32));
    services = createDirectoryServices(store, secrets);
    const logger = pino({ level: 'silent' });
    webhooks = new WebhookService({ store, secrets, domains: services.domains, logger });
    await webhooks.start();
    app = buildHttpApp({
      logger,
      metrics: new ServerMetrics({ bindings: () => 0, transactions: () => 0, activeCalls: () => 0 }),
      health: { health: () => ({}) },
    });
    await registerApi(app, { services, logger, routes: [(v1) => registerWebhookRoutes(v1, { webhooks })] });
    await app.ready();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    const root = CLI_PRINCIPAL;
    domainA = (await services.domains.create(root, { domain: 'a.example' })).id;
    domainB = (await services.domains.create(root, { domain: 'b.example' })).id;
    const sa = await services.sessions.createSuperadmin(root, {
      email: 'root@ops.example',
      password: 'correct horse battery',
    });
    tokens.root = (await services.tokens.create(root, sa.id, 't')).token;
    let ext = 100;
    for (const [actor, domainId, role] of [
      ['ownerA', domainA, 'owner'],
      ['adminA', domainA, 'admin'],
      ['agentA', domainA, 'agent'],
      ['ownerB', domainB, 'owner'],
    ] as const) {
      const u = await services.users.create(root, domainId, {
        ext: String(ext++),
        extPassword: `sip-${actor}-secret`,
        email: `${actor.toLowerCase()}@example.org`,
        password: 'correct horse battery',
        role,
      });
      tokens[actor] = (await services.tokens.create(root, u.id, 't')).token;
    }
  });
  afterAll(async () => {
    if (!database) return;
    await webhooks.close();
    await app.close();
    await new Promise((r) => receiver.close(r));
    await store.close();
  });

  it.skipIf(!database)('answers 401 without a token or with a bad one', async () => {
    expect((await call(undefined, 'GET', '/api/v1/webhooks')).statusCode).toBe(401);
    const bad = await app.inject({ url: '/api/v1/webhooks', headers: { authorization: 'Bearer hst_nope' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it.skipIf(!database)('documents the routes in the OpenAPI document', async () => {
    const doc = (await call('root', 'GET', '/api/v1/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/deliveries']),
    );
  });

  it.skipIf(!database)('lets an owner create, read, change, rotate and delete a webhook', async () => {
    const created = await call('ownerA', 'POST', '/api/v1/webhooks', {
      url: receiverUrl,
      events: ['cdr.created', 'call.*'],
      description: 'billing',
    });
    expect(created.statusCode).toBe(201);
    const hook = created.json<{ id: string; secret: string; domain: string; domainId: string }>();
    expect(hook).toMatchObject({
      domain: 'a.example',
      domainId: domainA,
      events: ['cdr.created', 'call.*'],
      active: true,
    });
    expect(hook.secret).toMatch(/^whsec_/);

    const one = await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.body).not.toContain(hook.secret);
    expect(one.json()).not.toHaveProperty('secret');
    expect((await call('ownerA', 'GET', '/api/v1/webhooks')).json<{ docs: unknown[] }>().docs).toHaveLength(1);

    const changed = await call('ownerA', 'PATCH', `/api/v1/webhooks/${hook.id}`, { events: ['*'], description: null });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ events: ['*'] });
    expect(changed.json()).not.toHaveProperty('description');
    const rotated = await call('ownerA', 'PATCH', `/api/v1/webhooks/${hook.id}`, { rotateSecret: true });
    expect(rotated.json<{ secret: string }>().secret).toMatch(/^whsec_/);
    expect(rotated.json<{ secret: string }>().secret).not.toBe(hook.secret);

    expect((await call('ownerA', 'DELETE', `/api/v1/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
  });

  it.skipIf(!database)('answers bad input with 400, 413 or 422 naming the field, and stores nothing', async () => {
    const cases: Array<[unknown, number, string | undefined]> = [
      [{ url: 'ftp://files.example/' }, 422, 'url'],
      [{ url: 'javascript:alert(1)' }, 422, 'url'],
      [{ url: 'http://x.example/', events: [] }, 422, 'events'],
      [{ url: 'http://x.example/', events: ["'; drop table webhooks; --"] }, 422, 'events.0'],
      [{ url: 'http://x.example/', isAdmin: true }, 422, 'isAdmin'],
      [{ url: 42 }, 422, 'url'],
      [{ url: `http://x.example/${'a'.repeat(3000)}` }, 422, 'url'],
      [{ url: 'http://x.example/', domainId: 'not-a-uuid' }, 422, 'domainId'],
    ];
    for (const [body, status, field] of cases) {
      const res = await call('ownerA', 'POST', '/api/v1/webhooks', body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(status);
      if (field) expect(Object.keys(res.json<{ error: { fields: object } }>().error.fields)).toContain(field);
    }
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${tokens.ownerA}`, 'content-type': 'application/json' },
      payload: '{"url": "http://x.example/",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const huge = await app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: { authorization: `Bearer ${tokens.ownerA}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ url: 'http://x.example/', description: 'x'.repeat(100_000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect((await call('ownerA', 'GET', '/api/v1/webhooks?page=-1')).statusCode).toBe(422);
    expect((await call('ownerA', 'GET', '/api/v1/webhooks')).json<{ docs: unknown[] }>().docs).toEqual([]);
  });

  it.skipIf(!database)('keeps tenants and roles apart', async () => {
    const hook = (await call('ownerA', 'POST', '/api/v1/webhooks', { url: receiverUrl })).json<{ id: string }>();
    for (const actor of ['adminA', 'agentA'] as const) {
      expect((await call(actor, 'GET', '/api/v1/webhooks')).statusCode, actor).toBe(403);
      expect((await call(actor, 'POST', '/api/v1/webhooks', { url: receiverUrl })).statusCode, actor).toBe(403);
      expect((await call(actor, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`)).statusCode, actor).toBe(403);
    }
    for (const [method, url, body] of [
      ['GET', `/api/v1/webhooks/${hook.id}`, undefined],
      ['PATCH', `/api/v1/webhooks/${hook.id}`, { url: 'http://evil.example/' }],
      ['DELETE', `/api/v1/webhooks/${hook.id}`, undefined],
      ['GET', `/api/v1/webhooks/${hook.id}/deliveries`, undefined],
      ['GET', `/api/v1/webhooks?domainId=${domainA}`, undefined],
      ['POST', '/api/v1/webhooks', { url: receiverUrl, domainId: domainA }],
    ] as const) {
      const res = await call('ownerB', method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.body).not.toContain(receiverUrl);
    }
    expect((await call('ownerB', 'GET', '/api/v1/webhooks')).json<{ docs: unknown[] }>().docs).toEqual([]);
    expect((await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}`)).json()).toMatchObject({ url: receiverUrl });

    expect((await call('root', 'POST', '/api/v1/webhooks', { url: receiverUrl })).statusCode).toBe(422);
    const forB = await call('root', 'POST', '/api/v1/webhooks', { url: receiverUrl, domainId: domainB });
    expect(forB.json()).toMatchObject({ domain: 'b.example' });
    const all = (await call('root', 'GET', '/api/v1/webhooks')).json<{ docs: Array<{ domain: string }> }>().docs;
    expect(all.map((w) => w.domain).sort()).toEqual(['a.example', 'b.example']);
    const onlyB = (await call('root', 'GET', `/api/v1/webhooks?domainId=${domainB}`)).json<{ docs: unknown[] }>();
    expect(onlyB.docs).toHaveLength(1);
    for (const actor of ['ownerA', 'root'] as const)
      for (const w of (await call(actor, 'GET', '/api/v1/webhooks')).json<{ docs: Array<{ id: string }> }>().docs)
        await call(actor, 'DELETE', `/api/v1/webhooks/${w.id}`);
  });

  it.skipIf(!database)('shows the delivery log, paged and filtered by status', async () => {
    const hook = (
      await call('ownerA', 'POST', '/api/v1/webhooks', { url: receiverUrl, events: ['cdr.created'] })
    ).json<{
      id: string;
    }>();
    for (let i = 0; i < 3; i++)
      webhooks.handle({
        type: 'cdr.created',
        domain: 'a.example',
        domainId: undefined,
        at: new Date().toISOString(),
        payload: { id: `cdr-${i}` } as never,
      });
    await webhooks.drain();
    for (let i = 0; i < 200 && received.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    let page = { totalDocs: 0, docs: [] as Array<{ status: string; attempts: number; responseCode: number }> };
    for (let i = 0; i < 200; i++) {
      page = (await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}/deliveries?status=delivered`)).json();
      if (page.totalDocs === 3) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(page.totalDocs).toBe(3);
    expect(page.docs[0]).toMatchObject({ status: 'delivered', attempts: 1, responseCode: 200 });
    const paged = (
      await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}/deliveries?page=2&pageSize=2`)
    ).json<object>();
    expect(paged).toMatchObject({ totalDocs: 3, totalPages: 2, page: 2, limit: 2 });
    expect((await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}/deliveries?status=lost`)).statusCode).toBe(422);
    expect((await call('ownerA', 'GET', `/api/v1/webhooks/${hook.id}/deliveries?pageSize=100000`)).statusCode).toBe(
      422,
    );
  });
});
