/**
 * HTTP of desk phones: the files phones fetch (`/prov/<file>`, and `/app/provision/<file>` where
 * FusionPBX admins point their phones; either with the device secret as first segment), rate
 * limited per source; and `/api/v1/devices`, the admin API (behind the injected authenticator).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import { pageBounds, toPage } from '../directory/paged-list.js';
import type { Principal } from '../directory/principal.js';
import type { DeskFileServer } from '../provisioning/desk/desk-file-server.js';
import { deskPhoneView, type DeskPhoneService } from '../provisioning/desk/desk-phone-service.js';
import { DESK_VENDORS } from '../provisioning/desk/desk-vendors.js';
import { ProvisioningError } from '../provisioning/provisioning-error.js';
import { parseProvisioningInput } from '../provisioning/provisioning-input.js';
import { toApiError } from './api-errors.js';
import { PROVISIONING_ERROR_STATUS } from './provisioning-routes.js';

/** Where desk phones fetch their files. */
export const DESK_FILE_PREFIXES = ['/prov/', '/app/provision/'] as const;
/** The admin API. */
export const DEVICES_API_PREFIX = '/api/v1/devices';

/** Options of {@link registerDeskPhoneRoutes}. */
export interface DeskPhoneRoutesOptions {
  files: DeskFileServer;
  service: DeskPhoneService;
  authenticate: preHandlerAsyncHookHandler;
  logger: Logger;
  /**
   * `POST /api/v1/devices` with an `adapter` field: the phone is provisioned by that device adapter
   * (docs/device-adapters.md) instead of from Handset's own files; answers 202 with the queued phone.
   */
  adapterProvision?: (principal: Principal, body: unknown) => Promise<unknown>;
  /** Requests per source and window (default 60 a minute; 0 = off), as for SessionTalk. */
  rateLimit?: { max: number; timeWindowMs: number };
}

const listQuery = z.object({
  mac: z.string().max(32).optional(),
  vendor: z.enum(DESK_VENDORS).optional(),
  model: z.string().max(64).optional(),
  firmware: z.string().max(64).optional(),
  user: z.string().max(64).optional(),
  ip: z.string().max(64).optional(),
  status: z.enum(['active', 'pending']).optional(),
  domainId: z.uuid().optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  pageSize: z.coerce.number().int().min(1).max(1000).optional(),
});
const idParams = z.object({ id: z.string().min(1).max(64) });
const resyncBody = z.strictObject({ reboot: z.boolean().optional() });

/** Registers the file routes and the admin API. */
export async function registerDeskPhoneRoutes(app: FastifyInstance, o: DeskPhoneRoutesOptions): Promise<void> {
  await app.register(async (pub) => {
    const limit = o.rateLimit?.max ?? 60;
    if (limit > 0) await pub.register(rateLimit, { max: limit, timeWindow: o.rateLimit?.timeWindowMs ?? 60_000 });
    pub.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
      const status =
        err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) o.logger.error({ err }, 'desk-phone file request failed');
      return reply
        .status(status)
        .type('text/plain; charset=utf-8')
        .send(status === 429 ? 'Too Many Requests\n' : status === 500 ? 'Server Error\n' : 'Bad Request\n');
    });
    for (const prefix of DESK_FILE_PREFIXES) {
      pub.get(`${prefix}*`, async (req, reply) => {
        const target = req.raw.url ?? req.url;
        const q = target.indexOf('?');
        const path = (q < 0 ? target : target.slice(0, q)).slice(prefix.length);
        const header = (name: string) => {
          const v = req.headers[name];
          return typeof v === 'string' ? v : undefined;
        };
        const a = await o.files.serve({
          path,
          prefix,
          method: req.method,
          target,
          host: header('host'),
          userAgent: header('user-agent'),
          authorization: header('authorization'),
          ifNoneMatch: header('if-none-match'),
          ip: req.ip,
          secure: req.protocol === 'https',
        });
        return reply.status(a.status).headers(a.headers).send(a.body);
      });
    }
  });

  await app.register(
    (api, _opts, done) => {
      api.addHook('preHandler', o.authenticate);
      api.setErrorHandler((err, _req, reply) => {
        if (err instanceof ProvisioningError)
          return reply
            .status(PROVISIONING_ERROR_STATUS[err.code])
            .send({ error: { code: err.code, message: err.message } });
        const { status, body } = toApiError(err, o.logger);
        return reply.status(status).send(body);
      });
      const bodyLimit = 64 << 10;
      api.post('/', { bodyLimit }, async (req, reply) => {
        const body: unknown = req.body;
        if (o.adapterProvision && typeof body === 'object' && body !== null && 'adapter' in body)
          return reply.status(202).send(await o.adapterProvision(principal(req), body));
        return reply.status(201).send(deskPhoneView(await o.service.create(principal(req), body)));
      });
      api.get('/', async (req) => {
        const q = parse(listQuery, req.query);
        const b = pageBounds({ page: q.page, pageSize: q.pageSize });
        const { devices, total } = await o.service.search(principal(req), { ...q, limit: b.limit, offset: b.offset });
        return toPage(devices.map(deskPhoneView), total, b);
      });
      api.get('/:id', (req) => deskPhoneView(o.service.get(principal(req), parse(idParams, req.params).id)));
      api.patch('/:id', { bodyLimit }, async (req) =>
        deskPhoneView(await o.service.update(principal(req), parse(idParams, req.params).id, req.body)),
      );
      api.put('/:id/lines', { bodyLimit }, async (req) =>
        deskPhoneView(await o.service.setLines(principal(req), parse(idParams, req.params).id, req.body)),
      );
      api.put('/:id/keys', { bodyLimit }, async (req) =>
        deskPhoneView(await o.service.setKeys(principal(req), parse(idParams, req.params).id, req.body)),
      );
      api.delete('/:id', async (req, reply: FastifyReply) => {
        await o.service.delete(principal(req), parse(idParams, req.params).id);
        return reply.status(204).send();
      });
      api.post('/:id/resync', { bodyLimit }, async (req) => {
        const b = parse(resyncBody, req.body ?? {});
        const results = await o.service.resync(principal(req), parse(idParams, req.params).id, b);
        return { notified: results.length, results };
      });
      done();
    },
    { prefix: DEVICES_API_PREFIX },
  );
}

function principal(req: FastifyRequest): Principal {
  const p = (req as FastifyRequest & { principal?: Principal }).principal;
  if (!p) throw new DirectoryError('UNAUTHENTICATED', 'not signed in');
  return p;
}

const parse = parseProvisioningInput;
