import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { domainPatchSchema, newDomainSchema } from '../directory/directory-schemas.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { domainView, idParams, pageQuery, pagedSchema, views } from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

/** `/api/v1/domains`: tenants (a superadmin manages them; others see their own). */
export function registerDomainRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['domains'];
  r.get(
    '/domains',
    {
      schema: {
        tags,
        summary: 'List domains',
        querystring: pageQuery,
        response: { 200: pagedSchema(domainView), ...errors },
      },
    },
    async (req) => {
      const page = await services.domains.list(principalOf(req), req.query);
      return { ...page, docs: page.docs.map(views.domain) };
    },
  );
  r.post(
    '/domains',
    {
      schema: {
        tags,
        summary: 'Create a domain (superadmin)',
        body: newDomainSchema,
        response: { 201: domainView, ...errors },
      },
    },
    async (req, reply) =>
      reply.status(201).send(views.domain(await services.domains.create(principalOf(req), req.body))),
  );
  r.get(
    '/domains/:id',
    { schema: { tags, summary: 'One domain', params: idParams, response: { 200: domainView, ...errors } } },
    async (req) => views.domain(await services.domains.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/domains/:id',
    {
      schema: {
        tags,
        summary: 'Rename (owner) or (de)activate (superadmin)',
        params: idParams,
        body: domainPatchSchema,
        response: { 200: domainView, ...errors },
      },
    },
    async (req) => views.domain(await services.domains.update(principalOf(req), req.params.id, req.body)),
  );
  r.delete(
    '/domains/:id',
    {
      schema: {
        tags,
        summary: 'Delete a domain and everything in it (superadmin)',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await services.domains.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
