import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { groupPatchSchema, newGroupSchema } from '../directory/directory-schemas.js';
import { GROUP_SORT } from '../directory/group-service.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import {
  boolQuery,
  domainIdField,
  groupView,
  idParams,
  pageQuery,
  pagedSchema,
  targetDomain,
  views,
} from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

/** `/api/v1/groups`: ring groups and their members. */
export function registerGroupRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['groups'];
  r.get(
    '/groups',
    {
      schema: {
        tags,
        summary: 'List and search groups',
        querystring: pageQuery.extend({
          domainId: z.uuid().optional(),
          active: boolQuery.optional(),
          sort: z.enum(GROUP_SORT).optional(),
        }),
        response: { 200: pagedSchema(groupView), ...errors },
      },
    },
    async (req) => {
      const page = await services.groups.list(principalOf(req), req.query);
      return { ...page, docs: page.docs.map(views.group) };
    },
  );
  r.post(
    '/groups',
    {
      schema: {
        tags,
        summary: 'Create a group',
        body: newGroupSchema.extend({ domainId: domainIdField }),
        response: { 201: groupView, ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(views.group(await services.groups.create(p, targetDomain(p, domainId), input)));
    },
  );
  r.get(
    '/groups/:id',
    { schema: { tags, summary: 'One group', params: idParams, response: { 200: groupView, ...errors } } },
    async (req) => views.group(await services.groups.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/groups/:id',
    {
      schema: {
        tags,
        summary: 'Change a group',
        params: idParams,
        body: groupPatchSchema,
        response: { 200: groupView, ...errors },
      },
    },
    async (req) => views.group(await services.groups.update(principalOf(req), req.params.id, req.body)),
  );
  r.put(
    '/groups/:id/members',
    {
      schema: {
        tags,
        summary: 'Replace the members (user ids, in ring order)',
        params: idParams,
        body: z.strictObject({ members: z.array(z.string().max(100)).max(500) }),
        response: { 200: groupView, ...errors },
      },
    },
    async (req) => views.group(await services.groups.setMembers(principalOf(req), req.params.id, req.body.members)),
  );
  r.delete(
    '/groups/:id',
    { schema: { tags, summary: 'Delete a group', params: idParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await services.groups.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
