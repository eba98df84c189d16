/** Test fixture for the REST API tests: a store, the services, an in-process app, and two tenants with every role. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { SecretBox } from '../config/secret-box.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { Mailer } from '../directory/user-service.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { buildHttpApp } from './http-app.js';
import { registerApi } from './api-v1.js';

/** Actors of the fixture: `<role>A` in a.example, `<role>B` in b.example, and `root`. */
export type Actor = 'root' | 'ownerA' | 'adminA' | 'agentA' | 'ownerB' | 'adminB' | 'agentB';

/** The fixture. */
export interface ApiFixture {
  store: Store;
  services: DirectoryServices;
  app: FastifyInstance;
  mail: Array<{ to: string; subject: string; text: string }>;
  domainA: string;
  domainB: string;
  /** User (or superadmin) id of each actor. */
  ids: Record<Actor, string>;
  /** An API token of each actor. */
  tokens: Record<Actor, string>;
  /** Sends a request as `actor` (or anonymously). */
  call(
    actor: Actor | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Password every fixture user signs in with. */
export const FIXTURE_PASSWORD = 'correct horse battery';

/** Builds the fixture on the given database. */
export async function createApiFixture(
  database: Parameters<typeof openStore>[0]['database'],
  /** More /api/v1 routes (other contexts), made from the fixture's store and services. */
  moreRoutes?: (ctx: { store: Store; services: DirectoryServices }) => ReadonlyArray<(v1: FastifyInstance) => void>,
): Promise<ApiFixture> {
  const store = await openStore({ database });
  const mail: ApiFixture['mail'] = [];
  const mailer: Mailer = { send: (m) => (mail.push(m), Promise.resolve()) };
  const services = createDirectoryServices(store, new SecretBox(randomBytes(32)), { mailer });
  const logger = pino({ level: 'silent' });
  const app = buildHttpApp({
    logger,
    metrics: new ServerMetrics({ bindings: () => 0, transactions: () => 0, activeCalls: () => 0 }),
    health: { health: () => ({}) },
  });
  await registerApi(app, { services, logger, routes: moreRoutes?.({ store, services }) ?? [] });
  await app.ready();

  const root = CLI_PRINCIPAL;
  const domainA = (await services.domains.create(root, { domain: 'a.example', name: 'A' })).id;
  const domainB = (await services.domains.create(root, { domain: 'b.example', name: 'B' })).id;
  const ids = {} as Record<Actor, string>;
  const tokens = {} as Record<Actor, string>;
  const sa = await services.sessions.createSuperadmin(root, { email: 'root@ops.example', password: FIXTURE_PASSWORD });
  ids.root = sa.id;
  tokens.root = (await services.tokens.create(root, sa.id, 'fixture')).token;
  let ext = 100;
  for (const [suffix, domainId] of [
    ['A', domainA],
    ['B', domainB],
  ] as const) {
    for (const role of ['owner', 'admin', 'agent'] as const) {
      const actor = `${role}${suffix}` as Actor;
      const u = await services.users.create(root, domainId, {
        ext: String(ext++),
        extPassword: `sip-${actor}`,
        email: `${actor.toLowerCase()}@${suffix.toLowerCase()}.example`,
        name: actor,
        password: FIXTURE_PASSWORD,
        role,
      });
      ids[actor] = u.id;
      tokens[actor] = (await services.tokens.create(root, u.id, 'fixture')).token;
    }
  }
  return {
    store,
    services,
    app,
    mail,
    domainA,
    domainB,
    ids,
    tokens,
    call: (actor, method, url, body) =>
      app.inject({
        method,
        url,
        headers: actor ? { authorization: `Bearer ${tokens[actor]}` } : {},
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}
