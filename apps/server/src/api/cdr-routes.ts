import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CDR_SORT } from '../directory/cdr-search-service.js';
import { keywordSchema } from '../directory/directory-schemas.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { pageQuery, pagedSchema, toJson } from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

/** Filters shared by the CDR list and its CSV export. */
export const cdrFilters = z.object({
  domainId: z.uuid().optional(),
  group: z.string().max(100).optional().describe('group id: calls of its members or to its extension'),
  user: z.string().max(100).optional().describe('user id: calls it made or received'),
  disposition: z.enum(['answered', 'busy', 'no-answer', 'cancelled', 'failed']).optional(),
  from: z.coerce.date().optional().describe('started at or after (ISO 8601)'),
  to: z.coerce.date().optional().describe('started before (ISO 8601)'),
  keyword: keywordSchema.optional(),
});

const cdrView = z
  .object({
    id: z.string(),
    callId: z.string(),
    domain: z.string(),
    caller: z.string(),
    callee: z.string(),
    callerDevice: z.string().optional(),
    calleeDevice: z.string().optional(),
    startedAt: z.string(),
    answeredAt: z.string().optional(),
    endedAt: z.string(),
    durationS: z.number(),
    billableS: z.number(),
    disposition: z.string(),
    sipStatus: z.number().int(),
    sipReason: z.string().optional(),
    hangupBy: z.string().optional(),
    createdAt: z.string(),
  })
  .meta({ id: 'Cdr' });

/** `/api/v1/cdrs`: search call detail records, and export them as CSV. */
export function registerCdrRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['cdrs'];
  r.get(
    '/cdrs',
    {
      schema: {
        tags,
        summary: 'Search CDRs (managers: the domain; agents: their own calls)',
        querystring: pageQuery.extend(cdrFilters.shape).extend({ sort: z.enum(CDR_SORT).optional() }),
        response: { 200: pagedSchema(cdrView), ...errors },
      },
    },
    async (req) => {
      const page = await services.cdrs.search(principalOf(req), req.query);
      return { ...page, docs: page.docs.map((c) => toJson(c)) };
    },
  );
  r.get(
    '/cdrs/export.csv',
    {
      schema: {
        tags,
        summary: 'The matching CDRs as CSV (newest first, at most 100,000)',
        querystring: cdrFilters,
        produces: ['text/csv'],
        response: { 200: z.string(), ...errors },
      },
    },
    async (req, reply) => {
      const csv = await services.cdrs.exportCsv(principalOf(req), req.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="cdrs.csv"')
        .send(csv);
    },
  );
}
