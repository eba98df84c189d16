import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { withUndeclaredPaths } from './openapi-extra-paths.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { DirectoryServices } from '../directory/directory-services.js';
import { registerAdminRoutes } from './admin-routes.js';
import { ApiAuthenticator } from './api-auth.js';
import { apiErrorHandler } from './api-errors.js';
import { PUBLIC_PATHS, registerAuthRoutes } from './auth-routes.js';
import { registerCdrRoutes } from './cdr-routes.js';
import { registerClientApi } from './client-api.js';
import { registerContactRoutes } from './contact-routes.js';
import { registerDomainRoutes } from './domain-routes.js';
import { registerGroupRoutes } from './group-routes.js';
import { registerUserRoutes } from './user-routes.js';

/** What the API routes use. */
export interface ApiV1Deps {
  services: DirectoryServices;
  auth: ApiAuthenticator;
  logger: Logger;
}

/** Largest JSON body the API accepts (a user or group is a few hundred bytes). */
export const API_BODY_LIMIT = 256 << 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Mounts the native REST API at `/api/v1` (OpenAPI 3.1 at `/api/v1/openapi.json`, browsable docs
 * at `/api/docs`) and the Phonenet-compatible Client API at `/client-api`. Both parse JSON
 * strictly (valid UTF-8, at most {@link API_BODY_LIMIT}), validate with zod, and answer every
 * failure as `{error: {code, message, fields?}}` with a 4xx status.
 */
export async function registerApi(
  app: FastifyInstance,
  deps: Omit<ApiV1Deps, 'auth'> & {
    auth?: ApiAuthenticator;
    /**
     * More /api/v1 routes from other contexts (webhooks, devices, ...), registered inside the v1
     * scope: authenticated, zod-validated, errors mapped, and in the OpenAPI document.
     */
    routes?: ReadonlyArray<(v1: FastifyInstance) => void>;
  },
): Promise<ApiAuthenticator> {
  const auth = deps.auth ?? new ApiAuthenticator({ tokens: deps.services.tokens, sessions: deps.services.sessions });
  const full: ApiV1Deps = { ...deps, auth };
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(apiErrorHandler(deps.logger));
    // JSON only: any other body type is a 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: API_BODY_LIMIT },
      (_req, body: Buffer, done) => {
        if (body.length === 0) return done(null, undefined);
        let text: string;
        try {
          text = utf8.decode(body);
        } catch {
          return done(Object.assign(new Error('the body is not valid UTF-8'), { statusCode: 400 }), undefined);
        }
        try {
          done(null, JSON.parse(text));
        } catch {
          done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
        }
      },
    );

    await scope.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Handset API',
          version: '1',
          description:
            'Directory (domains, users, groups, contacts), CDRs, settings, tokens and audit. Every error is `{error: {code, message, fields?}}`.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'API token (hst_...) or session token (hss_...)' },
            token: { type: 'apiKey', in: 'header', name: 'token', description: 'the same token in a `token` header' },
          },
        },
        security: [{ bearer: [] }, { token: [] }],
        tags: [
          { name: 'auth', description: 'sign in (rate limited, lockout after repeated failures), sign out, who am I' },
          { name: 'domains', description: 'tenants' },
          { name: 'users', description: 'users (extensions) with roles, sign-in and SIP passwords' },
          { name: 'groups', description: 'ring groups: an extension that rings its members' },
          { name: 'contacts', description: 'the domain phonebook and private entries' },
          { name: 'cdrs', description: 'call detail records: search and CSV export' },
          { name: 'settings', description: 'typed settings with per-domain overrides' },
          { name: 'tokens', description: 'API tokens (shown once, stored hashed, revocable)' },
          { name: 'audit', description: 'who changed what, when' },
          { name: 'campaigns', description: 'preview-dialer campaigns, their agents and leads (JSON or CSV import)' },
          { name: 'agent', description: "the signed-in agent's lead: next, decision, calls" },
          { name: 'agent tools', description: 'agent page buttons, forms and server-side scripts, and their actions' },
          { name: 'client-api (Phonenet compatible)', description: 'the Phonenet Client API under /client-api' },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: (doc) => withUndeclaredPaths(jsonSchemaTransformObject(doc)),
    });
    await scope.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

    await scope.register(
      (v1) => {
        v1.addHook('preHandler', async (req: FastifyRequest, reply) => {
          if (PUBLIC_PATHS.has(req.routeOptions.url ?? '')) return;
          await auth.preHandler.call(v1, req, reply);
        });
        v1.get('/openapi.json', { schema: { hide: true } }, () => scope.swagger());
        registerAuthRoutes(v1, full);
        registerDomainRoutes(v1, full);
        registerUserRoutes(v1, full);
        registerGroupRoutes(v1, full);
        registerContactRoutes(v1, full);
        registerCdrRoutes(v1, full);
        registerAdminRoutes(v1, full);
        for (const add of deps.routes ?? []) add(v1);
        return Promise.resolve();
      },
      { prefix: '/api/v1' },
    );
    await scope.register(
      (compat) => {
        registerClientApi(compat, full);
        return Promise.resolve();
      },
      { prefix: '/client-api' },
    );
  });
  return auth;
}
