/** The HTTP application: health, metrics, and (later issues) the REST API. SIP over WebSocket attaches to its server. */
import { TLS_POLICY } from '@handset/sip-node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerMetrics } from '../metrics/server-metrics.js';

/** What /healthz reports. */
export interface HealthSource {
  health(): Record<string, unknown>;
}

/** Options for buildHttpApp. */
export interface HttpAppOptions {
  logger: Logger;
  metrics: ServerMetrics;
  health: HealthSource;
  https?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Largest request body accepted (default 1 MiB). */
  bodyLimit?: number;
}

/** Builds the Fastify app (not yet listening). */
export function buildHttpApp(o: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    // Per-request logs stay off (level warn); errors still reach the log.
    loggerInstance: o.logger.child({ component: 'http' }, { level: 'warn' }),
    bodyLimit: o.bodyLimit ?? 1 << 20,
    ...(o.https ? { https: { ...TLS_POLICY, cert: o.https.cert, key: o.https.key } } : {}),
  }) as unknown as FastifyInstance;

  // One error handler: bad input is a 4xx with a JSON body, never a 500 with a stack.
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) o.logger.error({ err }, 'HTTP handler failed');
    void reply
      .status(status)
      .send({ error: { code: err.code ?? 'ERROR', message: status === 500 ? 'Internal error' : err.message } });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'No such resource' } });
  });

  app.get('/healthz', () => Promise.resolve({ status: 'ok', ...o.health.health() }));
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', o.metrics.contentType);
    return o.metrics.render();
  });
  return app;
}
