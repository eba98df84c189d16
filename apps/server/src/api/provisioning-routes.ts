/**
 * HTTP of softphone provisioning: the SessionTalk external-provisioning endpoint (public, rate
 * limited per source address), the Windows .appinstaller document, and the REST routes the
 * console and the web phone use (`/api/v1/provisioning/...`, behind the injected authenticator).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import { MAX_TOKEN_LENGTH } from '../provisioning/activation-codec.js';
import type { ActivationCodeService, ActivationCodeView } from '../provisioning/activation-code-service.js';
import { APPINSTALLER_ROUTE, activationLinks } from '../provisioning/activation-links.js';
import { appinstallerDocument } from '../provisioning/appinstaller-document.js';
import type { DeviceWithLines } from '../provisioning/device-repository.js';
import type { DeviceService } from '../provisioning/device-service.js';
import { ProvisioningError, type ProvisioningErrorCode } from '../provisioning/provisioning-error.js';
import type { ProvisioningDirectory } from '../provisioning/provisioning-ports.js';
import type { ProvisionBody, ProvisioningService } from '../provisioning/provisioning-service.js';
import { SESSIONTALK_TRANSPORTS, type ProvisioningSettings } from '../provisioning/sessiontalk-settings.js';
import { parseProvisioningInput } from '../provisioning/provisioning-input.js';
import { toApiError } from './api-errors.js';

/** Paths the SessionTalk cloud may be pointed at. */
export const SESSIONTALK_PROVISION_PATHS = ['/app/sessiontalk/provision', '/app/sessiontalk/provision.php'] as const;
/** The desk-phone path, which answers SessionTalk requests when they carry a deviceId (the seed's BONUS). */
export const DESK_PROVISION_PATHS = ['/app/provision', '/app/provision/'] as const;
/** Prefix of the REST routes. */
export const PROVISIONING_API_PREFIX = '/api/v1/provisioning';

/** Options of {@link registerProvisioningRoutes}. */
export interface ProvisioningRoutesOptions {
  provisioning: ProvisioningService;
  codes: ActivationCodeService;
  devices: DeviceService;
  settings: ProvisioningSettings;
  directory: ProvisioningDirectory;
  /** Sets `request.principal` or fails (ApiAuthenticator.preHandler). */
  authenticate: preHandlerAsyncHookHandler;
  /** Base URL apps reach Handset at, for the .appinstaller document's own Uri. */
  publicUrl: string;
  logger: Logger;
  /**
   * Provisioning requests per source address and window (default 60 per minute); `max: 0` turns
   * the limit off (HANDSET_PROVISION_RATE_LIMIT=0).
   */
  rateLimit?: { max: number; timeWindowMs: number };
}

export const PROVISIONING_ERROR_STATUS: Record<ProvisioningErrorCode, number> = {
  CODE_INVALID: 400,
  CODE_EXPIRED: 400,
  KEY_RETIRED: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_INPUT: 422,
  MAX_ACTIVATIONS: 409,
  CONFLICT: 409,
};

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
/** The cloud's query. Strings only: a repeated parameter (an array) is a bad request. */
const provisionQuery = z.object({
  username: z.string().min(3).max(320),
  password: printable(MAX_TOKEN_LENGTH * 2),
  deviceId: printable(200),
  reprovision: z.enum(['true', 'false', '']).optional(),
});
const createCodeBody = z.strictObject({
  ext: z.string().min(1).max(64),
  domain: z.string().min(1).max(253).optional(),
});
const devicePatchBody = z.strictObject({ enabled: z.boolean().optional(), jsonMd5: z.null().optional() });
const addLineBody = z.strictObject({
  ext: z.string().min(1).max(64),
  transport: z.enum(SESSIONTALK_TRANSPORTS).optional(),
});
const idParams = z.object({ id: z.uuid() });
const listQuery = z.object({ domainId: z.uuid().optional() });

/** Registers the public provisioning endpoints and the REST routes. */
export async function registerProvisioningRoutes(app: FastifyInstance, o: ProvisioningRoutesOptions): Promise<void> {
  await app.register(async (pub) => {
    const limit = o.rateLimit?.max ?? 60;
    if (limit > 0)
      await pub.register(rateLimit, {
        max: limit,
        timeWindow: o.rateLimit?.timeWindowMs ?? 60_000,
        // update:false keeps a throttled app's accounts: a flood must not log anybody out.
        errorResponseBuilder: (_req, ctx) => ({
          statusCode: 429,
          body: {
            update: false,
            errmsg: `Too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
            sipaccounts: [],
          },
        }),
      });
    pub.setErrorHandler((err: { statusCode?: number; message: string; body?: ProvisionBody }, _req, reply) => {
      if (err.statusCode === 429 && err.body) return reply.status(429).send(err.body);
      const status =
        err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) o.logger.error({ err }, 'provisioning request failed');
      return reply
        .status(status)
        .send(sessionTalkError(status === 500 ? 'Server error, try again later' : 'Bad Request'));
    });

    const provision = async (req: FastifyRequest, reply: FastifyReply) => {
      const q = provisionQuery.safeParse(req.query);
      const user = q.success ? activationLinks.parseUsername(q.data.username) : undefined;
      if (!q.success || !user) {
        const issue = q.success
          ? 'username must be <ext>@<domain>'
          : `${q.error.issues[0]?.path.join('.') ?? 'query'}: ${q.error.issues[0]?.message ?? 'invalid'}`;
        return reply.status(400).send(sessionTalkError(`Bad Request: ${issue}`));
      }
      const answer = await o.provisioning.provision({
        ext: user.ext,
        domain: user.domain,
        token: q.data.password,
        appDeviceId: q.data.deviceId,
        reprovision: q.data.reprovision === 'true',
        ip: req.ip,
      });
      return reply.status(answer.status).header('cache-control', 'no-store').send(answer.body);
    };
    for (const path of SESSIONTALK_PROVISION_PATHS) pub.get(path, provision);
    for (const path of DESK_PROVISION_PATHS)
      pub.get(path, async (req, reply) => {
        const deviceId = (req.query as Record<string, unknown>).deviceId;
        if (typeof deviceId === 'string' && deviceId.length > 0) return provision(req, reply);
        return reply
          .status(404)
          .send({ error: { code: 'NOT_FOUND', message: 'desk-phone provisioning is not served here' } });
      });

    pub.get(APPINSTALLER_ROUTE, async (req, reply) => {
      const { domain: name } = req.params as { domain: string };
      const domain = name.length <= 253 ? await o.directory.findDomain(name) : undefined;
      const s = domain ? await o.settings.get(domain.id) : undefined;
      if (!domain || !s?.windowsSoftphone || !s.windowsBundleUrl)
        return reply
          .status(404)
          .send({ error: { code: 'NOT_FOUND', message: 'no Windows softphone is offered for this domain' } });
      const selfUrl = o.publicUrl + activationLinks.appinstallerPath(domain.domain);
      return reply
        .header('content-type', 'application/appinstaller; charset=utf-8')
        .header('content-disposition', 'attachment; filename=sessiontalk.appinstaller')
        .send(appinstallerDocument({ selfUrl, bundleUrl: s.windowsBundleUrl, bundleVersion: s.windowsBundleVersion }));
    });
  });

  await app.register(
    (api, _opts, done) => {
      api.addHook('preHandler', o.authenticate);
      api.setErrorHandler((err, _req, reply) => {
        if (err instanceof ProvisioningError) {
          return reply
            .status(PROVISIONING_ERROR_STATUS[err.code])
            .send({ error: { code: err.code, message: err.message } });
        }
        // Directory errors (401 from the authenticator) and Fastify's own 4xx map as in the rest of the API.
        const { status: mapped, body } = toApiError(err, o.logger);
        return reply.status(mapped).send(body);
      });
      const bodyLimit = 16 << 10;

      api.get('/extensions', async (req) => {
        const q = parse(listQuery, req.query);
        const list = await o.codes.listActivatable(principal(req), q.domainId);
        return {
          extensions: list.map((e) => ({
            userId: e.userId,
            domainId: e.domainId,
            domain: e.domain,
            ext: e.ext,
            name: e.name ?? null,
            activations: e.activations,
          })),
        };
      });
      api.post('/codes', { bodyLimit }, async (req, reply) => {
        const p = principal(req);
        const b = parse(createCodeBody, req.body);
        const domain = b.domain ?? p.domain;
        if (domain === undefined) throw new ProvisioningError('INVALID_INPUT', 'domain: required for a superadmin');
        return reply.status(201).send(codeView(await o.codes.create(p, domain, b.ext)));
      });
      api.get('/devices', async (req) => {
        const q = parse(listQuery, req.query);
        return { devices: (await o.devices.list(principal(req), q.domainId)).map(deviceView) };
      });
      api.get('/devices/:id', async (req) =>
        deviceView(await o.devices.get(principal(req), parse(idParams, req.params).id)),
      );
      api.patch('/devices/:id', { bodyLimit }, async (req) =>
        deviceView(
          await o.devices.update(principal(req), parse(idParams, req.params).id, parse(devicePatchBody, req.body)),
        ),
      );
      api.delete('/devices/:id', async (req, reply) => {
        await o.devices.delete(principal(req), parse(idParams, req.params).id);
        return reply.status(204).send();
      });
      api.post('/devices/:id/lines', { bodyLimit }, async (req, reply) => {
        const b = parse(addLineBody, req.body);
        return reply
          .status(201)
          .send(
            deviceView(await o.devices.addLine(principal(req), parse(idParams, req.params).id, b.ext, b.transport)),
          );
      });
      done();
    },
    { prefix: PROVISIONING_API_PREFIX },
  );
}

function principal(req: FastifyRequest): Principal {
  const p = (req as FastifyRequest & { principal?: Principal }).principal;
  if (!p) throw new DirectoryError('UNAUTHENTICATED', 'not signed in');
  return p;
}

const parse = parseProvisioningInput;

function sessionTalkError(errmsg: string): ProvisionBody {
  // update:false: a malformed or failed request must not log a working app out.
  return { update: false, errmsg, sipaccounts: [] };
}

/** A code as JSON: the PNG as a data URL, dates as ISO strings. */
export function codeView(c: ActivationCodeView) {
  return {
    codeId: c.codeId,
    ext: c.ext,
    domain: c.domain,
    qrText: c.qrText,
    expiresAt: c.expiresAt.toISOString(),
    windowsLink: c.windowsLink ?? null,
    png: `data:image/png;base64,${c.png.toString('base64')}`,
    svg: c.svg,
  };
}

/** A device as JSON, without the code hash. */
export function deviceView(d: DeviceWithLines) {
  return {
    id: d.id,
    domainId: d.domainId,
    template: d.template,
    appDeviceId: d.appDeviceId,
    ext: d.ext,
    label: d.label,
    enabled: d.enabled,
    jsonMd5: d.jsonMd5,
    codeId: d.codeId,
    codeExpiresAt: d.codeExpiresAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    lastProvisionedAt: d.lastProvisionedAt?.toISOString() ?? null,
    lastProvisionedIp: d.lastProvisionedIp,
    lines: d.lines.map((l) => ({
      id: l.id,
      ext: l.ext,
      position: l.position,
      transport: l.transport,
      enabled: l.enabled,
    })),
  };
}
