import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DirectoryError, type DirectoryErrorCode } from '../directory/directory-error.js';

/** HTTP status of each directory error code (the one mapping of errors to HTTP). */
export const DIRECTORY_ERROR_STATUS: Record<DirectoryErrorCode, number> = {
  INVALID_INPUT: 422,
  CSV_LINE: 422,
  DOMAIN_NOT_FOUND: 404,
  DUPLICATE_DOMAIN: 409,
  DUPLICATE_EXTENSION: 409,
  DUPLICATE_EMAIL: 409,
  CREDENTIALS_UNREADABLE: 500,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  VALIDATION: 422,
  CONFLICT: 409,
  SCRIPT_FAILED: 422,
};

/** The error body every API answer uses: `{error: {code, message, fields?}}`. */
export const apiErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** One issue as fastify-type-provider-zod reports it. */
interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

/** An error body. */
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

/** Maps anything a handler throws to a status and an error body; never leaks internals. */
export function toApiError(err: unknown, logger?: Logger): { status: number; body: ApiErrorBody } {
  if (err instanceof DirectoryError) {
    const status = DIRECTORY_ERROR_STATUS[err.code];
    if (status >= 500) logger?.error({ err }, 'directory error');
    return {
      status,
      body: {
        error: {
          code: err.code,
          message: status >= 500 ? 'Internal error' : err.message,
          ...(err.fields ? { fields: err.fields } : {}),
        },
      },
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    const fields: Record<string, string> = {};
    const issues = (err as unknown as { validation: ValidationIssue[] }).validation;
    for (const v of issues) {
      const path = v.instancePath.split('/').filter(Boolean).join('.');
      const keys = v.params.keys;
      if (v.keyword === 'unrecognized_keys' && Array.isArray(keys))
        for (const k of keys) fields[[path, String(k)].filter(Boolean).join('.')] ??= 'unknown field';
      else fields[path || context] ??= v.message;
    }
    const summary = Object.entries(fields)
      .map(([k, m]) => `${k}: ${m}`)
      .join('; ');
    return { status: 422, body: { error: { code: 'VALIDATION', message: `invalid ${context}: ${summary}`, fields } } };
  }
  const e = err as Partial<FastifyError>;
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) {
    logger?.error({ err }, 'API handler failed');
    return { status, body: { error: { code: 'INTERNAL', message: 'Internal error' } } };
  }
  // Fastify's own 4xx (malformed JSON, body too large, wrong content type).
  const code = status === 413 ? 'TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
  return { status, body: { error: { code, message: e.message ?? 'bad request' } } };
}

/** A Fastify error handler answering with {@link toApiError}. */
export function apiErrorHandler(logger: Logger) {
  return (err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toApiError(err, logger);
    void reply.status(status).send(body);
  };
}

/** The error responses every /api/v1 route documents. */
export const ERROR_RESPONSES = {
  400: apiErrorSchema,
  401: apiErrorSchema,
  403: apiErrorSchema,
  404: apiErrorSchema,
  409: apiErrorSchema,
  422: apiErrorSchema,
} as const;
