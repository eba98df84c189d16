import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contactPatchSchema, newContactSchema } from '../directory/directory-schemas.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { contactView, domainIdField, idParams, pageQuery, pagedSchema, targetDomain, views } from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

/** `/api/v1/contacts`: the domain phonebook and each user's private entries. */
export function registerContactRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['contacts'];
  r.get(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'Phonebook: shared entries and your private ones',
        querystring: pageQuery.extend({
          domainId: z.uuid().optional(),
          scope: z.enum(['all', 'domain', 'private']).optional(),
          sort: z.enum(['name', 'company', 'createdAt']).optional(),
        }),
        response: { 200: pagedSchema(contactView), ...errors },
      },
    },
    async (req) => {
      const page = await services.contacts.list(principalOf(req), req.query);
      return { ...page, docs: page.docs.map(views.contact) };
    },
  );
  r.post(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'Add a phonebook entry (private: true for your own)',
        body: newContactSchema.extend({ domainId: domainIdField }),
        response: { 201: contactView, ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(views.contact(await services.contacts.create(p, targetDomain(p, domainId), input)));
    },
  );
  r.get(
    '/contacts/:id',
    { schema: { tags, summary: 'One entry', params: idParams, response: { 200: contactView, ...errors } } },
    async (req) => views.contact(await services.contacts.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/contacts/:id',
    {
      schema: {
        tags,
        summary: 'Change an entry',
        params: idParams,
        body: contactPatchSchema,
        response: { 200: contactView, ...errors },
      },
    },
    async (req) => views.contact(await services.contacts.update(principalOf(req), req.params.id, req.body)),
  );
  r.delete(
    '/contacts/:id',
    { schema: { tags, summary: 'Delete an entry', params: idParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await services.contacts.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}
