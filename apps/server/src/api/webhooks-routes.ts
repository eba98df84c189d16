/**
 * `/api/v1/webhooks`: a domain owner's (or a superadmin's) webhook endpoints and their delivery
 * log. Rights are enforced by the WebhookService; this file only maps HTTP to it.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deliveryQuerySchema, newWebhookSchema, webhookPatchSchema } from '../notify/webhook-schemas.js';
import type { Webhook, WebhookDelivery, WebhookService } from '../notify/webhook-service.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { idParams, pagedSchema } from './api-schemas.js';

const iso = z.string().describe('ISO 8601 date-time');

const webhookView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    domain: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().optional(),
    active: z.boolean(),
    createdAt: iso,
    updatedAt: iso,
    secret: z.string().optional().describe('the signing secret: only in the answer to create and to rotateSecret'),
  })
  .meta({ id: 'Webhook' });

const deliveryView = z
  .object({
    id: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: iso.optional(),
    lastAttemptAt: iso.optional(),
    lastError: z.string().optional(),
    responseCode: z.number().int().optional(),
    createdAt: iso,
    deliveredAt: iso.optional(),
    body: z.string().describe('the exact JSON body sent and signed'),
  })
  .meta({ id: 'WebhookDelivery' });

/** Largest body a webhook request may have. */
const BODY_LIMIT = 16 << 10;

/** What the webhook routes use. */
export interface WebhookRoutesDeps {
  webhooks: WebhookService;
}

/**
 * Registers the routes on the `/api/v1` scope, which authenticates (sets `request.principal`)
 * and maps errors: pass `(v1) => registerWebhookRoutes(v1, deps)` in registerApi's `routes`.
 */
export function registerWebhookRoutes(app: FastifyInstance, { webhooks }: WebhookRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Webhooks of your domain (a superadmin: all, or one domainId)',
        querystring: z.strictObject({ domainId: z.uuid().optional() }),
        response: { 200: z.object({ docs: z.array(webhookView) }), ...errors },
      },
    },
    async (req) => ({ docs: (await webhooks.list(principalOf(req), req.query)).map(toView) }),
  );
  r.post(
    '/webhooks',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook; the answer carries its signing secret, shown this once',
        body: newWebhookSchema,
        response: { 201: webhookView, ...errors },
      },
    },
    async (req, reply) => {
      const created = await webhooks.create(principalOf(req), req.body);
      return reply.status(201).send(toView(created));
    },
  );
  r.get(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook',
        params: idParams,
        response: { 200: webhookView, ...errors },
      },
    },
    async (req) => toView(await webhooks.get(principalOf(req), req.params.id)),
  );
  r.patch(
    '/webhooks/:id',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook (rotateSecret: true issues a new secret, in the answer)',
        params: idParams,
        body: webhookPatchSchema,
        response: { 200: webhookView, ...errors },
      },
    },
    async (req) => toView(await webhooks.update(principalOf(req), req.params.id, req.body)),
  );
  r.delete(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook and its delivery log',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await webhooks.remove(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delivery log, newest first',
        params: idParams,
        querystring: deliveryQuerySchema,
        response: { 200: pagedSchema(deliveryView), ...errors },
      },
    },
    async (req) => {
      const page = await webhooks.deliveries(principalOf(req), req.params.id, req.query);
      return { ...page, docs: page.docs.map(toDeliveryView) };
    },
  );
}

function toView(w: Webhook & { secret?: string }) {
  return {
    id: w.id,
    domainId: w.domainId,
    domain: w.domain,
    url: w.url,
    events: w.events,
    description: w.description,
    active: w.active,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
    ...(w.secret === undefined ? {} : { secret: w.secret }),
  };
}

function toDeliveryView(d: WebhookDelivery) {
  return {
    id: d.id,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt?.toISOString(),
    lastAttemptAt: d.lastAttemptAt?.toISOString(),
    lastError: d.lastError,
    responseCode: d.responseCode,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString(),
    body: d.body,
  };
}
