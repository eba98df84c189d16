import type { z } from 'zod';
import { ProvisioningError } from './provisioning-error.js';

/** Parses untrusted input, or throws INVALID_INPUT naming the first problem (`lines.0.ext: ...`). */
export function parseProvisioningInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new ProvisioningError('INVALID_INPUT', `${where}${issue?.message ?? 'invalid'}`);
}

/** True when `err` (or a cause) is a PostgreSQL unique violation (23505). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if ((e as Error & { code?: unknown }).code === '23505') return true;
  return false;
}
