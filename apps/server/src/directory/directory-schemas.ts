/**
 * The directory's input rules as zod schemas. Services validate with them (whatever the caller),
 * and the REST API uses the same schemas for request validation and the OpenAPI document.
 */
import { z } from 'zod';
import { DirectoryError } from './directory-error.js';

// C0/C1 controls and DEL: kept out of stored text so they cannot corrupt logs, tables or CSV.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Lone surrogates and U+FFFD (what undecodable bytes become) are refused as text.
const UNPAIRED = /[\ud800-\udfff\ufffd]/u;

/** Printable text of at most `max` characters, trimmed. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => !UNPAIRED.test(s), 'must be valid Unicode text');

/** Extension (SIP user part), shared by users and groups. */
export const extSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._+-]{1,32}$/, '1-32 characters of A-Z a-z 0-9 . _ - +');

/** SIP password (digest secret). */
export const sipPasswordSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'at most 128 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** Sign-in password. */
export const loginPasswordSchema = z
  .string()
  .min(8, 'at least 8 characters')
  .max(256, 'at most 256 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** E-mail address, lowercased. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'at most 254 characters')
  .regex(/^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+\.[^\s@<>()",;:\\]+$/, 'not an e-mail address')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** A search keyword (PostgreSQL text cannot hold NUL, so control characters are refused up front). */
export const keywordSchema = z
  .string()
  .max(200, 'at most 200 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** Phone number as dialled: digits and + * # with spaces, dashes, dots, parentheses. */
export const phoneSchema = z
  .string()
  .trim()
  .max(32, 'at most 32 characters')
  .regex(/^[0-9+*#][0-9 ()./*#-]*$/, 'digits, + * # and separators only');

/** Roles a domain user can have. */
export const userRoleSchema = z.enum(['owner', 'admin', 'agent']);

/** Ring strategies of a group. */
export const groupStrategySchema = z.enum(['simultaneous', 'sequential']);

/** Record ids are UUIDs. */
export const idSchema = z.uuid('not a valid id');

/** A new user. */
export const newUserSchema = z.strictObject({
  ext: extSchema,
  extPassword: sipPasswordSchema,
  email: emailSchema.optional(),
  name: text(200).optional(),
  password: loginPasswordSchema.optional(),
  phone: phoneSchema.optional(),
  desc: text(1000).optional(),
  role: userRoleSchema.default('agent'),
  group: idSchema.nullable().optional(),
  active: z.boolean().default(true),
});

/** Changes to a user: any subset of the fields; null clears an optional one. */
export const userPatchSchema = z.strictObject({
  ext: extSchema.optional(),
  extPassword: sipPasswordSchema.optional(),
  email: emailSchema.nullable().optional(),
  name: text(200).nullable().optional(),
  password: loginPasswordSchema.optional(),
  phone: phoneSchema.nullable().optional(),
  desc: text(1000).nullable().optional(),
  role: userRoleSchema.optional(),
  group: idSchema.nullable().optional(),
  active: z.boolean().optional(),
});

/** A new ring group. */
export const newGroupSchema = z.strictObject({
  name: text(200).min(1, 'must not be empty'),
  ext: extSchema,
  desc: text(1000).optional(),
  active: z.boolean().default(true),
  strategy: groupStrategySchema.default('simultaneous'),
  ringTimeoutS: z.number().int().min(1).max(600).default(20),
});

/** Changes to a group. */
export const groupPatchSchema = z.strictObject({
  name: text(200).min(1, 'must not be empty').optional(),
  ext: extSchema.optional(),
  desc: text(1000).nullable().optional(),
  active: z.boolean().optional(),
  strategy: groupStrategySchema.optional(),
  ringTimeoutS: z.number().int().min(1).max(600).optional(),
});

/** A labelled number of a contact. */
export const contactNumberSchema = z.strictObject({
  label: text(50).default(''),
  number: phoneSchema.min(1, 'must not be empty'),
});

/** A new phonebook entry. `private` makes it the creator's own. */
export const newContactSchema = z.strictObject({
  name: text(200).min(1, 'must not be empty'),
  company: text(200).optional(),
  ext: extSchema.optional(),
  numbers: z.array(contactNumberSchema).max(20, 'at most 20 numbers').default([]),
  private: z.boolean().default(false),
});

/** Changes to a phonebook entry. */
export const contactPatchSchema = z.strictObject({
  name: text(200).min(1, 'must not be empty').optional(),
  company: text(200).nullable().optional(),
  ext: extSchema.nullable().optional(),
  numbers: z.array(contactNumberSchema).max(20, 'at most 20 numbers').optional(),
});

/** A new domain (tenant). */
export const newDomainSchema = z.strictObject({
  domain: z.string().trim().toLowerCase().min(1).max(253),
  name: text(200).optional(),
  active: z.boolean().default(true),
});

/** Changes to a domain. */
export const domainPatchSchema = z.strictObject({
  name: text(200).nullable().optional(),
  active: z.boolean().optional(),
});

/** zod issues as `{field: message}` (dotted paths; `body` for the value as a whole). */
export function issueFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) fields[[...issue.path, k].join('.')] ??= 'unknown field';
      continue;
    }
    const key = issue.path.length > 0 ? issue.path.join('.') : 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Parses `input` with `schema`, or throws a VALIDATION DirectoryError naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw DirectoryError.validation(issueFields(parsed.error));
  return parsed.data;
}
