/** The HTTP application: health, metrics, and (later issues) the REST API. SIP over WebSocket attaches to its server. */
import { TLS_POLICY } from '@handset/sip-node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LOOPBACK_ONLY, MetricsAccess, type MetricsAccessConfig } from '../metrics/metrics-access.js';
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
  /** Who may read /metrics (default: loopback only, no token). */
  metricsAccess?: MetricsAccessConfig | undefined;
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
  const metricsAccess = new MetricsAccess(o.metricsAccess ?? { allow: LOOPBACK_ONLY, token: undefined });
  app.get('/metrics', async (req, reply) => {
    const verdict = metricsAccess.check(req.socket.remoteAddress, req.headers.authorization);
    if (verdict === 'unauthorized') {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      return reply
        .status(401)
        .send({ error: { code: 'UNAUTHORIZED', message: 'metrics need the bearer token HANDSET_METRICS_TOKEN' } });
    }
    if (verdict === 'forbidden') {
      return reply.status(403).send({
        error: {
          code: 'FORBIDDEN',
          message: 'metrics are open to HANDSET_METRICS_ALLOW (loopback by default) or with HANDSET_METRICS_TOKEN',
        },
      });
    }
    void reply.header('content-type', o.metrics.contentType);
    return o.metrics.render();
  });
  return app;
}
