/**
 * The Phonenet-compatible Client API at `/client-api`, in exactly the seed's shapes: header
 * `token`, Mongo-style `_id`, `createTime` in epoch milliseconds, numeric `ext`, create/update
 * answering 200 `true`, invalid input 422. It maps onto the same principal-checked services as
 * /api/v1, so the rights are the same.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CdrRecord } from '../directory/cdr-search-service.js';
import { DirectoryError } from '../directory/directory-error.js';
import { emailSchema, keywordSchema, text } from '../directory/directory-schemas.js';
import type { GroupRecord } from '../directory/group-service.js';
import type { Principal } from '../directory/principal.js';
import type { UserRecord, UserService } from '../directory/user-service.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { idParams, targetDomain } from './api-schemas.js';
import type { ApiV1Deps } from './api-v1.js';

/** Phonenet sends `ext` (and often `phone`) as JSON numbers. */
const extField = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(32)]).transform(String);
const phoneField = z
  .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(32)])
  .transform(String);

const searchQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000),
  pageSize: z.coerce.number().int().min(1).max(1000),
  keyword: keywordSchema.optional(),
});

const userBody = z.strictObject({
  email: emailSchema,
  name: text(200).min(1),
  ext: extField,
  extPassword: z.string().max(128),
  password: z.string().max(256),
  phone: phoneField,
  desc: z.string().max(1000).optional(),
  role: z.enum(['owner', 'admin', 'agent']),
  group: z.string().max(100).nullable().optional(),
  active: z.boolean().optional(),
});

const groupBody = z.strictObject({
  name: text(200).min(1),
  ext: extField,
  desc: z.string().max(1000).optional(),
  active: z.boolean().optional(),
});

const paged = <T extends z.ZodType>(doc: T) =>
  z.object({ docs: z.array(doc), totalDocs: z.number(), limit: z.number(), totalPages: z.number(), page: z.number() });

const compatUser = z.object({
  _id: z.string(),
  active: z.boolean(),
  role: z.string(),
  createTime: z.number(),
  email: z.string().optional(),
  extPassword: z.string().optional(),
  name: z.string().optional(),
  phone: z.string().optional(),
  ext: z.union([z.number(), z.string()]),
  desc: z.string().optional(),
  group: z.string().optional(),
});

const compatGroup = z.object({
  _id: z.string(),
  name: z.string(),
  ext: z.union([z.number(), z.string()]),
  desc: z.string().optional(),
  active: z.boolean(),
  createTime: z.number(),
});

const compatCdr = z.looseObject({ _id: z.string(), createTime: z.number() });

/** Routes of the Client API (mounted under /client-api; the token header is checked here). */
export function registerClientApi(app: FastifyInstance, { services, auth }: ApiV1Deps): void {
  app.addHook('preHandler', auth.preHandler);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['client-api (Phonenet compatible)'];
  const ok = { 200: z.literal(true), ...errors };
  const p = (req: { principal?: Principal }) => req.principal!;

  r.get(
    '/user',
    { schema: { tags, querystring: searchQuery, response: { 200: paged(compatUser), ...errors } } },
    async (req) => {
      const page = await services.users.list(p(req), req.query);
      const docs = await Promise.all(page.docs.map((u) => toCompatUser(services.users, p(req), u)));
      return { ...page, docs };
    },
  );
  r.post('/user', { schema: { tags, body: userBody, response: ok } }, async (req) => {
    const principal = p(req);
    await services.users.create(principal, targetDomain(principal, undefined), fromCompatUser(req.body));
    return true as const;
  });
  r.put('/user/:id', { schema: { tags, params: idParams, body: userBody.partial(), response: ok } }, async (req) => {
    await services.users.update(p(req), req.params.id, fromCompatUser(req.body));
    return true as const;
  });
  r.delete('/user/:id', { schema: { tags, params: idParams, response: ok } }, async (req) => {
    await services.users.delete(p(req), req.params.id);
    return true as const;
  });
  r.delete('/user/:id/password', { schema: { tags, params: idParams, response: ok } }, async (req) => {
    await services.users.resetPassword(p(req), req.params.id);
    return true as const;
  });

  r.get(
    '/user-group',
    { schema: { tags, querystring: searchQuery, response: { 200: paged(compatGroup), ...errors } } },
    async (req) => {
      const page = await services.groups.list(p(req), req.query);
      return { ...page, docs: page.docs.map(toCompatGroup) };
    },
  );
  r.post('/user-group', { schema: { tags, body: groupBody, response: ok } }, async (req) => {
    const principal = p(req);
    await services.groups.create(principal, targetDomain(principal, undefined), fromCompatGroup(req.body));
    return true as const;
  });
  r.put(
    '/user-group/:id',
    { schema: { tags, params: idParams, body: groupBody.partial(), response: ok } },
    async (req) => {
      await services.groups.update(p(req), req.params.id, fromCompatGroup(req.body));
      return true as const;
    },
  );
  r.delete('/user-group/:id', { schema: { tags, params: idParams, response: ok } }, async (req) => {
    await services.groups.delete(p(req), req.params.id);
    return true as const;
  });

  r.get(
    '/cdr',
    {
      schema: {
        tags,
        querystring: searchQuery.extend({ group: z.string().max(100).optional() }),
        response: { 200: paged(compatCdr), ...errors },
      },
    },
    async (req) => {
      const page = await services.cdrs.search(p(req), req.query);
      return { ...page, docs: page.docs.map(toCompatCdr) };
    },
  );
}

/** Numeric extensions go out as numbers, as Phonenet's do. */
function compatExt(ext: string): number | string {
  return /^[1-9][0-9]{0,14}$/.test(ext) ? Number(ext) : ext;
}

/** Managers see `extPassword` in listings, as in the seed; an agent sees its own. */
async function toCompatUser(
  users: UserService,
  principal: Principal,
  u: UserRecord,
): Promise<z.infer<typeof compatUser>> {
  let extPassword: string | undefined;
  try {
    extPassword = await users.getSipPassword(principal, u.id);
  } catch (err) {
    if (!(err instanceof DirectoryError)) throw err;
  }
  return {
    _id: u.id,
    active: u.active,
    role: u.role,
    createTime: u.createdAt.getTime(),
    ...(u.email === undefined ? {} : { email: u.email }),
    ...(extPassword === undefined ? {} : { extPassword }),
    ...(u.name === undefined ? {} : { name: u.name }),
    ...(u.phone === undefined ? {} : { phone: u.phone }),
    ext: compatExt(u.ext),
    ...(u.desc === undefined ? {} : { desc: u.desc }),
    ...(u.group === undefined ? {} : { group: u.group }),
  };
}

function fromCompatUser(b: Partial<z.infer<typeof userBody>>) {
  return {
    ...(b.email === undefined ? {} : { email: b.email }),
    ...(b.name === undefined ? {} : { name: b.name }),
    ...(b.ext === undefined ? {} : { ext: b.ext }),
    ...(b.extPassword === undefined ? {} : { extPassword: b.extPassword }),
    ...(b.password === undefined ? {} : { password: b.password }),
    ...(b.phone === undefined ? {} : { phone: b.phone }),
    ...(b.desc === undefined ? {} : { desc: b.desc }),
    ...(b.role === undefined ? {} : { role: b.role }),
    ...(b.group === undefined || b.group === '' ? {} : { group: b.group }),
    ...(b.active === undefined ? {} : { active: b.active }),
  } as { ext: string; extPassword: string };
}

function toCompatGroup(g: GroupRecord): z.infer<typeof compatGroup> {
  return {
    _id: g.id,
    name: g.name,
    ext: compatExt(g.ext),
    ...(g.desc === undefined ? {} : { desc: g.desc }),
    active: g.active,
    createTime: g.createdAt.getTime(),
  };
}

function fromCompatGroup(b: Partial<z.infer<typeof groupBody>>) {
  return {
    ...(b.name === undefined ? {} : { name: b.name }),
    ...(b.ext === undefined ? {} : { ext: b.ext }),
    ...(b.desc === undefined ? {} : { desc: b.desc }),
    ...(b.active === undefined ? {} : { active: b.active }),
  } as { name: string; ext: string };
}

function toCompatCdr(c: CdrRecord): z.infer<typeof compatCdr> {
  const { id, createdAt, startedAt, answeredAt, endedAt, ...rest } = c;
  return {
    _id: id,
    createTime: createdAt.getTime(),
    ...rest,
    startTime: startedAt.getTime(),
    ...(answeredAt === undefined ? {} : { answerTime: answeredAt.getTime() }),
    endTime: endedAt.getTime(),
  };
}
