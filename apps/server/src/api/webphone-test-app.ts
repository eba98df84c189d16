/** Test fixture of the web phone route tests: an in-process app with the API and the web phone routes. */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { DirectoryServices } from '../directory/directory-services.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { registerApi } from './api-v1.js';
import { buildHttpApp } from './http-app.js';
import { registerWebphoneRoutes, type WebphoneRoutesOptions } from './webphone-routes.js';

/** The app with /api/v1 and the web phone routes registered (not yet ready: more may be added). */
export async function webphoneTestApp(
  o: Omit<WebphoneRoutesOptions, 'build' | 'services'> & { services: DirectoryServices },
): Promise<FastifyInstance> {
  const logger = pino({ level: 'silent' });
  const app = buildHttpApp({
    logger,
    metrics: new ServerMetrics({ bindings: () => 0, transactions: () => 0, activeCalls: () => 0 }),
    health: { health: () => ({}) },
  });
  await registerApi(app, {
    services: o.services,
    logger,
    routes: [(v1) => registerWebphoneRoutes(v1, { ...o, build: { version: '0.1.0', deployId: 'abc123' } })],
  });
  return app;
}
