import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { newUserSchema, userPatchSchema } from '../directory/directory-schemas.js';
import { USER_SORT } from '../directory/user-service.js';
import { principalOf } from './api-auth.js';
import type { ApiV1Deps } from './api-v1.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import {
  boolQuery,
  domainIdField,
  idParams,
  pageQuery,
  pagedSchema,
  targetDomain,
  userView,
  views,
} from './api-schemas.js';

/** `/api/v1/users`: list/search, create, read, change, delete, password reset, SIP password. */
export function registerUserRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['users'];
  r.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List and search users',
        querystring: pageQuery.extend({
          domainId: z.uuid().optional(),
          role: z.enum(['owner', 'admin', 'agent']).optional(),
          group: z.string().max(100).optional(),
          active: boolQuery.optional(),
          sort: z.enum(USER_SORT).optional(),
        }),
        response: { 200: pagedSchema(userView), ...errors },
      },
    },
    async (req) => {
      const page = await services.users.list(principalOf(req), req.query);
      return { ...page, docs: page.docs.map(views.user) };
    },
  );
  r.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        body: newUserSchema.extend({ domainId: domainIdField }),
        response: { 201: userView, ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      const user = await services.users.create(p, targetDomain(p, domainId), input);
      return reply.status(201).send(views.user(user));
    },
  );
  r.get(
    '/users/:id',
    { schema: { tags, summary: 'One user', params: idParams, response: { 200: userView, ...errors } } },
    async (req) => views.user(await services.users.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a user',
        params: idParams,
        body: userPatchSchema,
        response: { 200: userView, ...errors },
      },
    },
    async (req) => views.user(await services.users.update(principalOf(req), req.params.id, req.body)),
  );
  r.delete(
    '/users/:id',
    { schema: { tags, summary: 'Delete a user', params: idParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await services.users.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.post(
    '/users/:id/password-reset',
    {
      schema: {
        tags,
        summary: 'Set a random sign-in password and mail it to the user',
        params: idParams,
        response: { 200: z.object({ mailedTo: z.string() }), ...errors },
      },
    },
    async (req) => services.users.resetPassword(principalOf(req), req.params.id),
  );
  r.get(
    '/users/:id/sip-password',
    {
      schema: {
        tags,
        summary: "The user's SIP password (the user itself, or a manager)",
        params: idParams,
        response: { 200: z.object({ extPassword: z.string() }), ...errors },
      },
    },
    async (req) => ({ extPassword: await services.users.getSipPassword(principalOf(req), req.params.id) }),
  );
}
