import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import type { Principal } from '../directory/principal.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors, apiErrorSchema } from './api-errors.js';
import type { WebphoneAccountService } from '../webphone/webphone-account-service.js';
import { AGENT_STATES } from '../webphone/webphone-tables.js';
import type { WebphoneUserStateService } from '../webphone/webphone-user-state-service.js';
import { WEBPHONE_SETTINGS, type WebphoneSettingKey } from './webphone-settings.js';

/** What the web phone routes use. */
export interface WebphoneRoutesOptions {
  services: Pick<DirectoryServices, 'users' | 'groups' | 'settings'>;
  /** STUN/TURN servers for a user key (TurnCredentials.iceServersFor); default none (host candidates). */
  iceServersFor?: (user: string) => Array<{ urls: string[]; username?: string; credential?: string }>;
  /** Shown in the side menu as the build UUID: `<version>+<deployId>`. */
  build: { version: string; deployId: string };
  /** SIP sign-in and self sign-up (their routes exist only when given). */
  account?: WebphoneAccountService;
  /** Agent status, balance, counters (their routes exist only when given; balance null without). */
  userState?: WebphoneUserStateService;
}

/** Routes of the sign-in screen, answered without a token (api-v1's preHandler skips them). */
export const WEBPHONE_PUBLIC_PATHS = [
  '/api/v1/webphone/sign-in-options',
  '/api/v1/webphone/sip-login',
  '/api/v1/webphone/sign-up',
] as const;

/** Paths the PWA must never answer for (the API, SIP, health and provisioning own them). */
export const RESERVED_PREFIXES = [
  '/api',
  '/client-api',
  '/sip',
  '/healthz',
  '/metrics',
  '/app',
  '/internal',
  '/console',
] as const;

const HOST = /^[A-Za-z0-9.\-[\]:]{1,300}$/;

/**
 * A read-only stand-in for the caller inside its own domain: agents may not list colleagues or
 * read groups themselves, but the web phone shows every colleague's extension and name. The
 * routes below use it only for those projections, never to change anything.
 */
function domainReader(p: Principal): Principal {
  return { userId: undefined, email: p.email, role: 'admin', domainId: p.domainId, domain: p.domain, via: p.via };
}

/** The caller as a web phone user: a domain user with a SIP line (a superadmin has none). */
function lineUser(req: FastifyRequest): Principal & { userId: string; domainId: string } {
  const p = principalOf(req);
  if (p.userId === undefined || p.domainId === undefined)
    throw new DirectoryError('FORBIDDEN', 'the web phone needs a user of a domain (this token has no SIP line)');
  return p as Principal & { userId: string; domainId: string };
}

/**
 * Resolves every webphone.* key for a domain (stored override or default) in one read of the
 * domain's settings (per-key reads cost two queries each, some twenty keys). Listing needs the
 * owner's right; this reads them on the owner's behalf and hands out only the webphone.* keys.
 */
async function webphoneSettings(
  settings: WebphoneRoutesOptions['services']['settings'],
  p: Principal & { domainId: string },
): Promise<{ [K in WebphoneSettingKey]: (typeof WEBPHONE_SETTINGS)[K]['default'] }> {
  const views = await settings.list({ ...domainReader(p), role: 'owner' }, p.domainId);
  const byKey = new Map(views.map((v) => [v.key, v.value]));
  const keys = Object.keys(WEBPHONE_SETTINGS) as WebphoneSettingKey[];
  return Object.fromEntries(keys.map((k) => [k, byKey.get(k) ?? WEBPHONE_SETTINGS[k].default])) as never;
}

const configView = z.object({
  user: z.object({
    id: z.string(),
    ext: z.string(),
    domain: z.string(),
    name: z.string().optional(),
    email: z.string().optional(),
    role: z.string(),
  }),
  sip: z.object({
    uri: z.string(),
    username: z.string(),
    domain: z.string(),
    password: z.string(),
    displayName: z.string(),
  }),
  wsUrl: z.string(),
  iceServers: z.array(
    z.object({ urls: z.array(z.string()), username: z.string().optional(), credential: z.string().optional() }),
  ),
  config: z.object({
    brandName: z.string(),
    menuItems: z.array(z.record(z.string(), z.unknown())),
    flags: z.object({
      hideUuid: z.boolean(),
      menuRight: z.boolean(),
      displayBalance: z.boolean(),
      editSettings: z.boolean(),
      register: z.boolean(),
      usernameAsTitle: z.boolean(),
      autoAnswer: z.boolean(),
      agent: z.boolean(),
    }),
    customCss: z.string(),
    codecs: z.object({ delete: z.array(z.string()), priority: z.array(z.string()) }),
  }),
  balance: z.number().nullable(),
  /** ISO 4217 code of the balance, when billing gave one. */
  currency: z.string().nullable(),
  agentState: z.enum(AGENT_STATES),
  build: z.object({ version: z.string(), uuid: z.string() }),
});

/**
 * `/api/v1/webphone/*` (registered inside the v1 scope, so authenticated and error-mapped):
 * `GET /webphone/config` hands the signed-in user its SIP credentials, WS URL, ICE servers and
 * the domain's web phone configuration (403 when the domain restricts sign-in to other users or
 * groups); `GET /webphone/colleagues` lists the domain's active users by extension and name.
 */
export function registerWebphoneRoutes(v1: FastifyInstance, o: WebphoneRoutesOptions): void {
  const r = v1.withTypeProvider<ZodTypeProvider>();
  const tags = ['webphone'];
  r.get(
    '/webphone/config',
    {
      schema: {
        tags,
        summary: "The signed-in user's web phone: SIP credentials, WS URL, ICE servers, domain configuration",
        response: { 200: configView, ...errors },
      },
    },
    async (req, reply) => {
      const p = lineUser(req);
      const { users, groups, settings } = o.services;
      const [user, s] = await Promise.all([users.get(p, p.userId), webphoneSettings(settings, p)]);
      if (!user.active) throw new DirectoryError('FORBIDDEN', 'this user is disabled');
      await requireAllowed(s, user, async (id) => {
        const g = await groups.get(domainReader(p), id);
        return [g.id, g.ext, g.name.toLowerCase()];
      });
      const password = await users.getSipPassword(p, user.id);
      const host = typeof req.host === 'string' && HOST.test(req.host) ? req.host : '127.0.0.1';
      const wsUrl = s['webphone.ws_url'] || `${req.protocol === 'https' ? 'wss' : 'ws'}://${host}/sip`;
      const displayName = user.name ?? user.ext;
      const [money, agentState] = o.userState
        ? await Promise.all([o.userState.balance(p, user.id), o.userState.agentState(p)])
        : [{ balance: null, currency: null }, 'available' as const];
      void reply.header('cache-control', 'no-store');
      return {
        user: { id: user.id, ext: user.ext, domain: user.domain, name: user.name, email: user.email, role: user.role },
        sip: { uri: `sip:${user.ext}@${user.domain}`, username: user.ext, domain: user.domain, password, displayName },
        wsUrl,
        iceServers: o.iceServersFor?.(user.id) ?? [],
        config: {
          brandName: s['webphone.brand_name'],
          menuItems: s['webphone.menu_items'],
          flags: {
            hideUuid: s['webphone.hide_uuid'],
            menuRight: s['webphone.menu_right'],
            displayBalance: s['webphone.display_balance'],
            editSettings: s['webphone.edit_settings'],
            register: s['webphone.register'],
            usernameAsTitle: s['webphone.username_as_title'],
            autoAnswer: s['webphone.auto_answer'],
            agent: s['webphone.agent'],
          },
          customCss: s['webphone.custom_css'],
          codecs: { delete: s['webphone.codec_delete'], priority: s['webphone.codec_priority'] },
        },
        // Provided through PUT /webphone/users/:id/balance; the flag shows it only when set.
        balance: money.balance,
        currency: money.currency,
        agentState,
        build: { version: o.build.version, uuid: `${o.build.version}+${o.build.deployId}` },
      };
    },
  );
  r.get(
    '/webphone/colleagues',
    {
      schema: {
        tags,
        summary: "Active users of the caller's domain (extension, name) for the contacts page",
        querystring: z.object({ keyword: z.string().max(100).optional() }),
        response: {
          200: z.object({ docs: z.array(z.object({ ext: z.string(), name: z.string().optional() })) }),
          ...errors,
        },
      },
    },
    async (req) => {
      const p = lineUser(req);
      const page = await o.services.users.list(domainReader(p), {
        domainId: p.domainId,
        active: true,
        keyword: req.query.keyword,
        pageSize: 500,
      });
      return { docs: page.docs.filter((u) => u.id !== p.userId).map((u) => ({ ext: u.ext, name: u.name })) };
    },
  );
  if (o.account) registerSignInRoutes(v1, o.account);
  if (o.userState) registerUserStateRoutes(v1, o.userState);
}

/** `host[:port]` of the request, without the port, when it looks like a host name. */
function hostName(req: FastifyRequest): string | undefined {
  const host = typeof req.host === 'string' ? req.host : '';
  const name = host.replace(/:\d+$/, '');
  return HOST.test(name) ? name : undefined;
}

const domainName = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$/, 'a domain name');
const sessionView = z.object({ token: z.string(), expiresAt: z.string(), ext: z.string(), domain: z.string() });
const limited = { 429: apiErrorSchema, ...errors };

/**
 * The sign-in screen's public routes. The domain of sign-up and of the options is `domain` (a
 * `?domain=` in the link the tenant hands out) or else the page's host name, when a domain of
 * that name exists.
 */
function registerSignInRoutes(v1: FastifyInstance, account: WebphoneAccountService): void {
  const r = v1.withTypeProvider<ZodTypeProvider>();
  const tags = ['webphone'];
  r.get(
    '/webphone/sign-in-options',
    {
      schema: {
        tags,
        summary: "What a domain's sign-in screen offers: SIP account sign-in, self sign-up",
        security: [],
        querystring: z.object({ domain: domainName.optional() }),
        response: {
          200: z.object({ sipLogin: z.boolean(), register: z.boolean(), brandName: z.string().optional() }),
          ...errors,
        },
      },
    },
    async (req) => account.signInOptions(req.query.domain ?? hostName(req)),
  );
  r.post(
    '/webphone/sip-login',
    {
      schema: {
        tags,
        summary: 'Sign in with extension@domain and the SIP password (where webphone.sip_login is on)',
        security: [],
        body: z.strictObject({ account: z.string().min(3).max(300), password: z.string().min(1).max(256) }),
        response: { 200: sessionView, ...limited },
      },
    },
    async (req, reply) => {
      const s = await account.sipSignIn(req.body, req.ip);
      void reply.header('cache-control', 'no-store');
      return { token: s.token, expiresAt: s.expiresAt.toISOString(), ext: s.ext, domain: s.domain };
    },
  );
  r.post(
    '/webphone/sign-up',
    {
      schema: {
        tags,
        summary: 'Create an agent account (where webphone.register is on) with the next free extension, and sign in',
        security: [],
        // Fields are checked by the service after the flag, so a closed domain says only that.
        body: z.strictObject({
          domain: domainName.optional(),
          name: z.string().max(1000),
          email: z.string().max(1000),
          password: z.string().max(1000),
        }),
        response: { 201: sessionView, ...limited },
      },
    },
    async (req, reply) => {
      const { domain, ...rest } = req.body;
      const s = await account.signUp(domain ?? hostName(req), rest, req.ip);
      void reply.header('cache-control', 'no-store');
      return reply
        .status(201)
        .send({ token: s.token, expiresAt: s.expiresAt.toISOString(), ext: s.ext, domain: s.domain });
    },
  );
}

/** Agent status and counters (own), and the balance billing provides (managers set it). */
function registerUserStateRoutes(v1: FastifyInstance, state: WebphoneUserStateService): void {
  const r = v1.withTypeProvider<ZodTypeProvider>();
  const tags = ['webphone'];
  const agentView = z.object({
    state: z.enum(AGENT_STATES),
    today: z.object({
      total: z.number(),
      outgoing: z.number(),
      incoming: z.number(),
      answered: z.number(),
      missed: z.number(),
      talkS: z.number(),
      since: z.string(),
    }),
  });
  r.get(
    '/webphone/agent',
    {
      schema: {
        tags,
        summary: "The caller's agent status and its calls since `since` (default: midnight UTC)",
        querystring: z.object({ since: z.iso.datetime({ offset: true }).optional() }),
        response: { 200: agentView, ...errors },
      },
    },
    async (req) => {
      const p = lineUser(req);
      const now = Date.now();
      const q = req.query.since;
      const since = q === undefined ? new Date(new Date(now).setUTCHours(0, 0, 0, 0)) : new Date(q);
      // "Today" in any time zone lies within the last 38 hours.
      if (since.getTime() > now + 60_000 || since.getTime() < now - 38 * 3600_000)
        throw DirectoryError.validation({ since: 'must be within the last 38 hours' });
      const [s, today] = await Promise.all([state.agentState(p), state.counters(p, since)]);
      return { state: s, today };
    },
  );
  r.put(
    '/webphone/agent',
    {
      schema: {
        tags,
        summary: 'Set the caller\'s agent status; only "available" agents ring for group calls',
        body: z.strictObject({ state: z.enum(AGENT_STATES) }),
        response: { 200: z.object({ state: z.enum(AGENT_STATES) }), ...errors },
      },
    },
    async (req) => {
      const p = lineUser(req);
      return { state: await state.setAgentState(p, req.body.state) };
    },
  );
  const balanceView = z.object({ balance: z.number().nullable(), currency: z.string().nullable() });
  const idParams = z.object({ id: z.uuid() });
  r.get(
    '/webphone/users/:id/balance',
    {
      schema: {
        tags,
        summary: "A user's balance (the user itself or a manager of its domain)",
        params: idParams,
        response: { 200: balanceView, ...errors },
      },
    },
    async (req) => state.balance(principalOf(req), req.params.id),
  );
  r.put(
    '/webphone/users/:id/balance',
    {
      schema: {
        tags,
        summary: "Set a user's balance (owner or admin of its domain; null clears it)",
        params: idParams,
        body: z.strictObject({
          balance: z.number().finite().min(-1e12).max(1e12).nullable(),
          currency: z
            .string()
            .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
            .nullable()
            .optional(),
        }),
        response: { 200: balanceView, ...errors },
      },
    },
    async (req) => {
      const b = req.body;
      return state.setBalance(principalOf(req), req.params.id, {
        balance: b.balance,
        currency: b.balance === null ? null : (b.currency ?? null),
      });
    },
  );
}

/** Throws FORBIDDEN when `webphone.allowed_users` / `allowed_groups` exclude the user. */
async function requireAllowed(
  s: { 'webphone.allowed_users': string[]; 'webphone.allowed_groups': string[] },
  user: { ext: string; email: string | undefined; group: string | undefined },
  groupKeys: (id: string) => Promise<string[]>,
): Promise<void> {
  const allowedUsers = s['webphone.allowed_users'].map((x) => x.toLowerCase());
  const allowedGroups = s['webphone.allowed_groups'].map((x) => x.toLowerCase());
  if (allowedUsers.length === 0 && allowedGroups.length === 0) return;
  if (allowedUsers.includes(user.ext) || (user.email !== undefined && allowedUsers.includes(user.email.toLowerCase())))
    return;
  if (user.group !== undefined && allowedGroups.length > 0) {
    const keys = await groupKeys(user.group);
    if (keys.some((k) => allowedGroups.includes(k))) return;
  }
  throw new DirectoryError('FORBIDDEN', 'this domain allows the web phone only for listed users or groups');
}

/**
 * Serves the built web phone (apps/webphone/dist) at `/`: files as they are, and index.html for
 * any other GET that is not a reserved server path (client-side routes). Does nothing when the
 * build is missing, so a server without it still starts.
 */
export async function registerWebphoneStatic(app: FastifyInstance, o: { root: string }): Promise<boolean> {
  if (!existsSync(join(o.root, 'index.html'))) return false;
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: o.root,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      // The service worker must be re-fetched to notice an update; hashed assets may be cached.
      setHeaders: (res, path) => {
        res.setHeader(
          'cache-control',
          /sw\.js$|index\.html$|manifest/.test(path) ? 'no-cache' : 'public, max-age=3600',
        );
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
    // Static routes (the API's, the files above) win over this wildcard in Fastify's router.
    scope.get('/*', (req, reply) => {
      const path = req.url.split('?')[0] ?? '/';
      const reserved = RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
      if (reserved || /\.[a-z0-9]{1,8}$/i.test(path))
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route GET ${path.slice(0, 200)}` } });
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  });
  return true;
}
