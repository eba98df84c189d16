import { DECISIONS } from '@handset/agent-actions';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CampaignService } from '../agent/campaign-service.js';
import { parseLeadCsv, readLeads } from '../agent/lead-input.js';
import type { PreviewDialer } from '../agent/preview-dialer.js';
import { CAMPAIGN_STATUSES, LEAD_STATUSES } from '../agent/agent-tables.js';
import { DirectoryError } from '../directory/directory-error.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { domainIdField, idParams, pageQuery, pagedSchema, targetDomain } from './api-schemas.js';

/** What the campaign and dialer routes use. */
export interface CampaignRoutesOptions {
  campaigns: CampaignService;
  dialer: PreviewDialer;
}

/** Largest lead import (JSON or CSV). */
export const LEAD_IMPORT_BODY_LIMIT = 8 << 20;

const iso = z.string().describe('ISO 8601 date-time');
const ext = z.string().trim().min(1).max(64);
const campaignName = z.string().trim().min(1).max(100);
const callerId = z
  .string()
  .trim()
  .regex(/^\+?[0-9]{1,32}$/, 'digits, optionally after +')
  .nullable();

const campaignView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    name: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    callerId: z.string().nullable(),
    leadTimeoutS: z.number().int(),
    agents: z.array(z.string()),
    groups: z.array(z.string()),
    leads: z.object({ queued: z.number().int(), assigned: z.number().int(), done: z.number().int() }),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'Campaign' });

const leadView = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    position: z.number().int(),
    name: z.string().nullable(),
    phone: z.string(),
    alt_phone: z.string().nullable(),
    phone_code: z.string().nullable(),
    fields: z.record(z.string(), z.unknown()),
    status: z.enum(LEAD_STATUSES),
    agent: z.string().nullable().describe('extension of the agent holding it, or the last that did'),
    assignedAt: iso.nullable(),
    attempts: z.number().int(),
    decision: z.enum(DECISIONS).nullable(),
    decidedAt: iso.nullable(),
    calls: z
      .array(
        z.object({
          callId: z.string(),
          target: z.enum(['phone', 'alt_phone', 'phone_code']),
          number: z.string(),
          agent: z.string().nullable(),
          at: iso,
          disposition: z.string().nullable().describe("the CDR's, once the call has ended"),
          durationS: z.number().nullable(),
          cdrId: z.string().nullable(),
        }),
      )
      .optional(),
    forms: z.array(z.object({ formId: z.string(), data: z.record(z.string(), z.unknown()), at: iso })).optional(),
  })
  .meta({ id: 'Lead' });

const agentLeadView = z
  .object({
    lead: leadView.nullable(),
    campaign: z
      .object({ id: z.string(), name: z.string(), callerId: z.string().nullable(), leadTimeoutS: z.number().int() })
      .nullable(),
    expiresAt: iso.nullable().describe('the lead goes back to the queue then, unless decided or called'),
  })
  .meta({ id: 'AgentLead' });

const newCampaign = z.strictObject({
  name: campaignName,
  agents: z.array(ext).max(1000).optional().describe('extensions of the users who work it'),
  groups: z.array(ext).max(100).optional().describe('extensions of groups whose members work it'),
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  callerId: callerId.optional(),
  leadTimeoutS: z
    .number()
    .int()
    .min(10)
    .max(86_400)
    .optional()
    .describe('an undecided lead returns to the queue after this (default 300)'),
  domainId: domainIdField,
});

const leadParams = z.object({ id: z.string().max(100), leadId: z.string().max(100) });
const empty = { lead: null, campaign: null, expiresAt: null };

/**
 * `/api/v1/campaigns` (managers: owners and admins; agents read the campaigns they work) and the
 * preview dialer under `/api/v1/agent` (the signed-in agent's lead, next, decision, calls).
 */
export function registerCampaignRoutes(v1: FastifyInstance, o: CampaignRoutesOptions): void {
  // A scope of its own, so that only the lead import takes text/csv.
  void v1.register((scope) => {
    scope.addContentTypeParser(
      ['text/csv', 'application/csv'],
      { parseAs: 'buffer', bodyLimit: LEAD_IMPORT_BODY_LIMIT },
      (_req, body: Buffer, done) => {
        try {
          done(null, new TextDecoder('utf-8', { fatal: true }).decode(body));
        } catch {
          done(Object.assign(new Error('the CSV is not valid UTF-8'), { statusCode: 400 }), undefined);
        }
      },
    );
    importRoute(scope, o.campaigns);
    return Promise.resolve();
  });
  routes(v1, o);
}

function importRoute(app: FastifyInstance, campaigns: CampaignService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['campaigns'];
  r.post(
    '/campaigns/:id/leads',
    {
      bodyLimit: LEAD_IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Import leads: a JSON array, or text/csv with a header row; all or nothing',
        description:
          'Each lead: `phone` (required), `name`, `alt_phone`, `phone_code`, `fields` (an object); any other key or CSV column becomes a free field. A bad lead fails the whole import, and every bad lead or CSV line is named in `error.fields`.',
        params: idParams,
        body: z.unknown(),
        response: { 201: z.object({ imported: z.number().int() }), 413: errors[400], ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const body = req.body;
      const leads =
        typeof body === 'string'
          ? parseLeadCsv(body)
          : Array.isArray(body)
            ? readLeads(body)
            : (() => {
                throw new DirectoryError('INVALID_INPUT', 'send a JSON array of leads, or text/csv with a header row');
              })();
      return reply.status(201).send(await campaigns.importLeads(p, req.params.id, leads));
    },
  );
}

function routes(app: FastifyInstance, { campaigns, dialer }: CampaignRoutesOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['campaigns'];
  r.get(
    '/campaigns',
    {
      schema: {
        tags,
        summary: 'Campaigns (agents: those they work)',
        querystring: pageQuery.extend({ domainId: z.uuid().optional() }),
        response: { 200: pagedSchema(campaignView), ...errors },
      },
    },
    async (req) => campaigns.list(principalOf(req), req.query),
  );
  r.post(
    '/campaigns',
    { schema: { tags, summary: 'Create a campaign', body: newCampaign, response: { 201: campaignView, ...errors } } },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(await campaigns.create(p, targetDomain(p, domainId), input));
    },
  );
  r.get(
    '/campaigns/:id',
    { schema: { tags, summary: 'One campaign', params: idParams, response: { 200: campaignView, ...errors } } },
    async (req) => campaigns.get(principalOf(req), req.params.id),
  );
  r.patch(
    '/campaigns/:id',
    {
      schema: {
        tags,
        summary: 'Change a campaign (agents and groups replace the lists)',
        params: idParams,
        body: newCampaign.omit({ domainId: true }).partial(),
        response: { 200: campaignView, ...errors },
      },
    },
    async (req) => campaigns.update(principalOf(req), req.params.id, req.body),
  );
  r.delete(
    '/campaigns/:id',
    {
      schema: {
        tags,
        summary: 'Delete a campaign and its leads',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await campaigns.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/campaigns/:id/leads',
    {
      schema: {
        tags,
        summary: 'Leads of a campaign, in queue order',
        params: idParams,
        querystring: pageQuery.extend({
          status: z.enum(LEAD_STATUSES).optional(),
          decision: z.enum(DECISIONS).optional(),
        }),
        response: { 200: pagedSchema(leadView), ...errors },
      },
    },
    async (req) => campaigns.listLeads(principalOf(req), req.params.id, req.query),
  );
  r.get(
    '/campaigns/:id/leads/:leadId',
    {
      schema: {
        tags,
        summary: 'One lead with its calls (and their CDR outcomes) and submitted forms',
        params: leadParams,
        response: { 200: leadView, ...errors },
      },
    },
    async (req) => campaigns.getLead(principalOf(req), req.params.id, req.params.leadId),
  );
  r.delete(
    '/campaigns/:id/leads/:leadId',
    { schema: { tags, summary: 'Delete a lead', params: leadParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await campaigns.deleteLead(principalOf(req), req.params.id, req.params.leadId);
      return reply.status(204).send(null);
    },
  );

  const agentTags = ['agent'];
  r.get(
    '/agent/lead',
    {
      schema: {
        tags: agentTags,
        summary: 'The lead the signed-in agent holds (lead null: none)',
        response: { 200: agentLeadView, ...errors },
      },
    },
    async (req) => (await dialer.current(principalOf(req))) ?? empty,
  );
  r.post(
    '/agent/next',
    {
      schema: {
        tags: agentTags,
        summary: 'The next lead (the action next): the one held undecided goes back to the queue',
        description: 'The agent must be Available (PUT /api/v1/webphone/agent). lead null: the queue is empty.',
        body: z.strictObject({ campaignId: z.uuid().optional() }).nullish(),
        response: { 200: agentLeadView, ...errors },
      },
    },
    async (req) => (await dialer.next(principalOf(req), req.body?.campaignId)) ?? empty,
  );
  r.post(
    '/agent/leads/:id/decision',
    {
      schema: {
        tags: agentTags,
        summary: 'Save the decision on the lead held (the action save): Yes, No or Unknown',
        params: idParams,
        body: z.strictObject({
          decision: z
            .string()
            .transform((s) => DECISIONS.find((d) => d.toLowerCase() === s.trim().toLowerCase()))
            .pipe(z.enum(DECISIONS, 'Yes, No or Unknown')),
        }),
        response: { 200: leadView, ...errors },
      },
    },
    async (req) => dialer.decide(principalOf(req), req.params.id, req.body.decision),
  );
  r.post(
    '/agent/leads/:id/calls',
    {
      schema: {
        tags: agentTags,
        summary: 'Record a call placed to the lead held (its SIP Call-ID links the CDR)',
        params: idParams,
        body: z.strictObject({
          callId: z.string().trim().min(1).max(256),
          target: z.enum(['phone', 'alt_phone', 'phone_code']).default('phone'),
        }),
        response: { 201: z.object({ number: z.string() }), ...errors },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await dialer.recordCall(principalOf(req), req.params.id, req.body.callId, req.body.target)),
  );
}
