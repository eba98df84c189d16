/**
 * `/api/v1/adapters`: device adapters with their online state, the phones they provision, and
 * `POST /api/v1/adapters/:id/phones` to provision phones through one. Rights are enforced by
 * the AdapterService; this file only maps HTTP to it. (The same path's WebSocket upgrade is the
 * provider session, see adapter-gateway.ts.)
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../api/api-auth.js';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import { ERROR_RESPONSES as errors } from '../api/api-errors.js';
import { domainIdField, idParams } from '../api/api-schemas.js';
import {
  MAX_LINES,
  MAX_PHONES_PER_REQUEST,
  type AdapterPhoneView,
  type AdapterService,
  type AdapterView,
} from './adapter-service.js';

const iso = z.string().describe('ISO 8601 date-time');

const adapterView = z
  .object({
    id: z.string(),
    title: z.string(),
    domainId: z.string().optional().describe('absent: a superadmin adapter serving every domain'),
    online: z.boolean(),
    lastSeenAt: iso.optional(),
    createdAt: iso,
    pending: z.number().int().describe('phones queued or in flight'),
    inFlight: z.string().optional().describe('the phone whose ProvisioningPhoneResult is awaited'),
  })
  .meta({ id: 'DeviceAdapter' });

const phoneView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    mac: z.string(),
    adapterId: z.string(),
    lines: z.array(z.object({ line: z.number().int(), user: z.string() })),
    state: z.enum(['queued', 'sent', 'ok', 'error']),
    queuedAt: iso,
    sentAt: iso.optional(),
    identifiedAt: iso.optional(),
    product: z.string().optional(),
    version: z.string().optional(),
    resultAt: iso.optional(),
    error: z.string().optional(),
    lastConfig: z.record(z.string(), z.unknown()).optional().describe('the last configuration sent, without secrets'),
    configSentAt: iso.optional(),
  })
  .meta({ id: 'AdapterPhone' });

const lineSchema = z.strictObject({
  line: z.number().int().min(1).max(MAX_LINES),
  user: z.string().min(1).max(64).describe('extension'),
});
const phoneSchema = z.strictObject({
  mac: z.string().min(12).max(17).describe('MAC, with or without separators'),
  lines: z.array(lineSchema).min(1).max(MAX_LINES),
});
const provisionBody = z.union([
  phoneSchema.extend({ domainId: domainIdField }),
  z.strictObject({ domainId: domainIdField, phones: z.array(phoneSchema).min(1).max(MAX_PHONES_PER_REQUEST) }),
]);

/** `POST /api/v1/devices` with an `adapter`: one phone handed to that device adapter (the contract's form). */
const devicesBody = phoneSchema.extend({ adapter: z.string().min(1).max(100), domainId: domainIdField });

/**
 * Provisions the phone of a `POST /api/v1/devices` body that names an `adapter`, as
 * `POST /api/v1/adapters/:id/phones` would (same rights, same queue); answers the queued phone.
 */
export async function provisionDeviceThroughAdapter(
  adapters: AdapterService,
  principal: Principal,
  body: unknown,
): Promise<ReturnType<typeof toPhoneJson>> {
  const parsed = devicesBody.safeParse(body);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) fields[issue.path.join('.') || 'body'] = issue.message;
    throw DirectoryError.validation(fields);
  }
  const { adapter, domainId, mac, lines } = parsed.data;
  const [view] = await adapters.provisionPhones(principal, adapter, domainId, [{ mac, lines }]);
  if (!view) throw new Error('the adapter service answered no phone');
  return toPhoneJson(view);
}

/** Largest body of a provisioning request (100 phones of 16 lines fit). */
const BODY_LIMIT = 256 << 10;

/** Registers the routes on the `/api/v1` scope (pass `(v1) => registerAdapterRoutes(v1, {adapters})`). */
export function registerAdapterRoutes(app: FastifyInstance, { adapters }: { adapters: AdapterService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/adapters',
    {
      schema: {
        tags: ['adapters'],
        summary: 'Device adapters you may use, online or offline',
        response: { 200: z.object({ docs: z.array(adapterView) }), ...errors },
      },
    },
    async (req) => ({ docs: (await adapters.list(principalOf(req))).map(toAdapterJson) }),
  );
  r.get(
    '/adapters/:id',
    {
      schema: {
        tags: ['adapters'],
        summary: 'One device adapter',
        params: idParams,
        response: { 200: adapterView, ...errors },
      },
    },
    async (req) => toAdapterJson(await adapters.get(principalOf(req), req.params.id)),
  );
  r.get(
    '/adapters/:id/phones',
    {
      schema: {
        tags: ['adapters'],
        summary: 'Phones provisioned through the adapter, with their state, last result and last configuration',
        params: idParams,
        response: { 200: z.object({ docs: z.array(phoneView) }), ...errors },
      },
    },
    async (req) => ({ docs: (await adapters.listPhones(principalOf(req), req.params.id)).map(toPhoneJson) }),
  );
  r.post(
    '/adapters/:id/phones',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['adapters'],
        summary:
          'Provision phones through the adapter: `{mac, lines}` or `{phones: [...]}`; the adapter receives them one at a time',
        params: idParams,
        body: provisionBody,
        response: { 202: z.object({ docs: z.array(phoneView) }), ...errors },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const phones = 'phones' in body ? body.phones : [{ mac: body.mac, lines: body.lines }];
      const views = await adapters.provisionPhones(principalOf(req), req.params.id, body.domainId, phones);
      return reply.status(202).send({ docs: views.map(toPhoneJson) });
    },
  );
  r.delete(
    '/adapters/:id/phones/:mac',
    {
      schema: {
        tags: ['adapters'],
        summary: 'Forget a phone: out of the queue, its device password revoked, its configuration session closed',
        params: z.object({ id: z.string().max(100), mac: z.string().max(17) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await adapters.removePhone(principalOf(req), req.params.id, req.params.mac);
      return reply.status(204).send(null);
    },
  );
  r.delete(
    '/adapters/:id',
    {
      schema: {
        tags: ['adapters'],
        summary: 'Delete an adapter with its phones (domain owner; a server-wide adapter: superadmin)',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await adapters.remove(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
}

const isoOf = (d: Date | undefined) => d?.toISOString();

function toAdapterJson(a: AdapterView) {
  return { ...a, lastSeenAt: isoOf(a.lastSeenAt), createdAt: a.createdAt.toISOString() };
}

function toPhoneJson(p: AdapterPhoneView) {
  return {
    ...p,
    queuedAt: p.queuedAt.toISOString(),
    sentAt: isoOf(p.sentAt),
    identifiedAt: isoOf(p.identifiedAt),
    resultAt: isoOf(p.resultAt),
    configSentAt: isoOf(p.configSentAt),
  };
}
