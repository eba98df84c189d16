import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { keywordSchema } from '../directory/directory-schemas.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { idParams, pageQuery, pagedSchema, toJson } from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

const settingView = z
  .object({
    key: z.string(),
    value: z.unknown(),
    default: z.unknown(),
    source: z.enum(['default', 'server', 'domain']),
    scope: z.enum(['server', 'domain']),
    description: z.string(),
  })
  .meta({ id: 'Setting' });

const tokenView = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    ownerId: z.string(),
    ownerEmail: z.string().optional(),
    domainId: z.string().optional(),
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
    revokedAt: z.string().optional(),
  })
  .meta({ id: 'ApiToken' });

const auditView = z
  .object({
    id: z.string(),
    at: z.string(),
    actorId: z.string().optional(),
    actorEmail: z.string().optional(),
    actorRole: z.string(),
    via: z.string(),
    domainId: z.string().optional(),
    action: z.string(),
    resource: z.string(),
    resourceId: z.string().optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'AuditEntry' });

/** `/api/v1/settings`, `/api/v1/tokens`, `/api/v1/audit`: what domain owners (and superadmins) administer. */
export function registerAdminRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/settings',
    {
      schema: {
        tags: ['settings'],
        summary: 'Every known setting with its effective value (for a domain, or server-wide)',
        querystring: z.object({ domainId: z.uuid().optional() }),
        response: { 200: z.object({ docs: z.array(settingView) }), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const domainId = req.query.domainId ?? p.domainId;
      return { docs: await services.settings.list(p, domainId) };
    },
  );
  r.put(
    '/settings/:key',
    {
      schema: {
        tags: ['settings'],
        summary: 'Override a setting (value null resets it)',
        params: z.object({ key: z.string().max(200) }),
        body: z.strictObject({ value: z.unknown(), domainId: z.uuid().optional() }),
        response: { 200: settingView, ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return services.settings.set(p, req.params.key, req.body.value ?? null, req.body.domainId ?? p.domainId);
    },
  );
  r.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'API tokens of the domain (owner) or all (superadmin)',
        querystring: pageQuery.extend({
          domainId: z.uuid().optional(),
          includeRevoked: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: pagedSchema(tokenView), ...errors },
      },
    },
    async (req) => {
      const page = await services.tokens.list(principalOf(req), {
        ...req.query,
        includeRevoked: req.query.includeRevoked === 'true',
      });
      return { ...page, docs: page.docs.map((t) => toJson(t)) };
    },
  );
  r.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token for a user; the secret is shown only in this answer',
        body: z.strictObject({ userId: z.string().max(100).optional(), name: z.string().max(100).default('api') }),
        response: { 201: z.object({ token: z.string(), record: tokenView }), ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { token, record } = await services.tokens.create(p, req.body.userId ?? p.userId ?? '', req.body.name);
      return reply.status(201).send({ token, record: toJson(record) });
    },
  );
  r.delete(
    '/tokens/:id',
    {
      schema: { tags: ['tokens'], summary: 'Revoke a token', params: idParams, response: { 204: z.null(), ...errors } },
    },
    async (req, reply) => {
      await services.tokens.revoke(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log, newest first',
        querystring: pageQuery.extend({
          domainId: z.uuid().optional(),
          resource: keywordSchema.max(50).optional(),
          from: z.coerce.date().optional(),
          to: z.coerce.date().optional(),
        }),
        response: { 200: pagedSchema(auditView), ...errors },
      },
    },
    async (req) => {
      const page = await services.audit.list(principalOf(req), req.query);
      return { ...page, docs: page.docs.map((e) => toJson(e)) };
    },
  );
}
