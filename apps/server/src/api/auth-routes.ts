import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiAuthenticator, principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors, apiErrorSchema } from './api-errors.js';
import type { ApiV1Deps } from './api-v1.js';
import { WEBPHONE_PUBLIC_PATHS } from './webphone-routes.js';

const principalView = z
  .object({
    userId: z.string().optional(),
    email: z.string().optional(),
    role: z.enum(['superadmin', 'owner', 'admin', 'agent']),
    domainId: z.string().optional(),
    domain: z.string().optional(),
    via: z.enum(['session', 'token', 'cli']),
  })
  .meta({ id: 'Principal' });

/** Paths that need no token (the web phone's sign-in screen adds its own). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/api/v1/auth/login',
  '/api/v1/openapi.json',
  ...WEBPHONE_PUBLIC_PATHS,
]);

/** `/api/v1/auth`: sign in (rate limited, with lockout), sign out, who am I. */
export function registerAuthRoutes(app: FastifyInstance, { services }: ApiV1Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['auth'];
  r.post(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in with e-mail and password; answers a session token',
        security: [],
        body: z.strictObject({ email: z.string().max(254), password: z.string().max(256) }),
        response: {
          200: z.object({ token: z.string(), expiresAt: z.string(), principal: principalView }),
          429: apiErrorSchema,
          ...errors,
        },
      },
    },
    async (req) => {
      const s = await services.sessions.signIn(req.body, req.ip);
      return { token: s.token, expiresAt: s.expiresAt.toISOString(), principal: strip(s.principal) };
    },
  );
  r.post(
    '/auth/logout',
    { schema: { tags, summary: 'End this session', response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      const token = ApiAuthenticator.tokenOf(req);
      if (token !== undefined && req.principal?.via === 'session') await services.sessions.signOut(token);
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/auth/me',
    { schema: { tags, summary: 'Who the token stands for', response: { 200: principalView, ...errors } } },
    (req) => Promise.resolve(strip(principalOf(req))),
  );
}

function strip(p: ReturnType<typeof principalOf>) {
  return Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== undefined && k !== 'tokenId')) as z.infer<
    typeof principalView
  >;
}
