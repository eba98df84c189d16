/** Schemas shared by the /api/v1 routes: paging, ids, and the JSON views of directory records. */
import { z } from 'zod';
import type { ContactRecord } from '../directory/contact-service.js';
import type { DomainRecord } from '../directory/domain-service.js';
import type { GroupRecord } from '../directory/group-service.js';
import { keywordSchema } from '../directory/directory-schemas.js';
import { MAX_PAGE_SIZE } from '../directory/paged-list.js';
import type { UserRecord } from '../directory/user-service.js';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';

/** `?page=&pageSize=&keyword=` of every list. */
export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
  keyword: keywordSchema.optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

/** A boolean query parameter (`true` / `false`). */
export const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** `:id` path parameter (any string: a non-UUID simply finds nothing, 404). */
export const idParams = z.object({ id: z.string().max(100) });

/** Optional `domainId` (superadmin picks a tenant; others act in their own). */
export const domainIdField = z.uuid().optional().describe('tenant; defaults to your own (required for a superadmin)');

/** `{docs, totalDocs, limit, totalPages, page}` around an item schema. */
export function pagedSchema<T extends z.ZodType>(item: T) {
  return z.object({
    docs: z.array(item),
    totalDocs: z.number().int(),
    limit: z.number().int(),
    totalPages: z.number().int(),
    page: z.number().int(),
  });
}

/** The tenant a create acts in: the one asked for, else the principal's own. */
export function targetDomain(p: Principal, requested: string | undefined): string {
  const id = requested ?? p.domainId;
  if (id === undefined) throw DirectoryError.validation({ domainId: 'required for a superadmin' });
  return id;
}

const iso = z.string().describe('ISO 8601 date-time');

/** A user as /api/v1 answers it. */
export const userView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    domain: z.string(),
    ext: z.string(),
    email: z.string().optional(),
    name: z.string().optional(),
    phone: z.string().optional(),
    desc: z.string().optional(),
    role: z.enum(['owner', 'admin', 'agent']),
    group: z.string().optional(),
    active: z.boolean(),
    canSignIn: z.boolean(),
    createdAt: iso,
  })
  .meta({ id: 'User' });

/** A group as /api/v1 answers it. */
export const groupView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    domain: z.string(),
    name: z.string(),
    ext: z.string(),
    desc: z.string().optional(),
    active: z.boolean(),
    strategy: z.enum(['simultaneous', 'sequential']),
    ringTimeoutS: z.number().int(),
    members: z.array(z.string()).describe('member user ids in ring order'),
    createdAt: iso,
  })
  .meta({ id: 'Group' });

/** A phonebook entry as /api/v1 answers it. */
export const contactView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    name: z.string(),
    company: z.string().optional(),
    ext: z.string().optional(),
    numbers: z.array(z.object({ label: z.string(), number: z.string() })),
    owner: z.string().optional().describe('user id of a private entry'),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'Contact' });

/** A domain as /api/v1 answers it. */
export const domainView = z
  .object({
    id: z.string(),
    domain: z.string(),
    name: z.string().optional(),
    active: z.boolean(),
    userCount: z.number().int(),
    createdAt: iso,
  })
  .meta({ id: 'Domain' });

/** Dates as ISO strings, undefined fields left out (JSON-safe views of records). */
export function toJson<T extends object>(
  record: T,
): { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | undefined ? string | undefined : T[K] } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out as never;
}

/** Views, typed for the handlers. */
export const views = {
  user: (u: UserRecord) => toJson(u),
  group: (g: GroupRecord) => toJson(g),
  contact: (c: ContactRecord) => toJson(c),
  domain: (d: DomainRecord) => toJson(d),
};
