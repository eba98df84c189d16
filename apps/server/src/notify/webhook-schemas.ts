/** Validation of webhook input (create, update, delivery listing), shared by the service and its routes. */
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import { EVENT_FILTER } from '../events/platform-event.js';

const url = z
  .string()
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const events = z
  .array(z.string().regex(EVENT_FILTER, 'must be *, a family such as call.*, or an event type such as cdr.created'))
  .min(1, 'must list at least one event filter')
  .max(32, 'must list at most 32 event filters');

const description = z.string().trim().max(200, 'must be at most 200 characters');

/** Body of POST /api/v1/webhooks. `domainId` is for a superadmin (others create in their own domain). */
export const newWebhookSchema = z.strictObject({
  url,
  events: events.default(['*']),
  description: description.optional(),
  active: z.boolean().default(true),
  domainId: z.uuid('must be a domain id').optional(),
});

/** Body of PATCH /api/v1/webhooks/:id; `rotateSecret: true` issues a new signing secret. */
export const webhookPatchSchema = z.strictObject({
  url: url.optional(),
  events: events.optional(),
  description: description.nullable().optional(),
  active: z.boolean().optional(),
  rotateSecret: z.literal(true).optional(),
});

/** Query of the delivery log. */
export const deliveryQuerySchema = z.strictObject({
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  pageSize: z.coerce.number().int().min(1).max(1000).optional(),
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
});

/** Parses `input` or throws a VALIDATION DirectoryError naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const fields: Record<string, string> = {};
  for (const issue of r.error.issues) {
    if (issue.code === 'unrecognized_keys') for (const k of issue.keys) fields[k] = 'unknown field';
    else fields[issue.path.join('.') || 'body'] ??= issue.message;
  }
  throw DirectoryError.validation(fields);
}
