import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildHttpApp } from '../api/http-app.js';
import { loadServerConfig } from '../config/server-config.js';
import { ConfigError } from '../config/config-error.js';
import { LOOPBACK_ONLY, MetricsAccess, parseAllowEntry } from './metrics-access.js';
import { ServerMetrics } from './server-metrics.js';

const TOKEN = 'scrape-token-0123456789';

function app(metricsAccess?: { allow: readonly string[]; token: string | undefined }) {
  const metrics = new ServerMetrics({ bindings: () => 3, transactions: () => 0, activeCalls: () => 0 });
  return buildHttpApp({ logger: pino({ level: 'silent' }), metrics, health: { health: () => ({}) }, metricsAccess });
}

describe('GET /metrics access', () => {
  it('is open on loopback by default and closed to other addresses', async () => {
    const a = app();
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const res = await a.inject({ url: '/metrics', remoteAddress });
      expect(res.statusCode, remoteAddress).toBe(200);
      expect(res.body).toContain('handset_registrations 3');
    }
    const far = await a.inject({ url: '/metrics', remoteAddress: '192.0.2.7' });
    expect(far.statusCode).toBe(403);
    expect(far.body).not.toContain('handset_');
    expect(far.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('lets any address in with the bearer token, and answers 401 without it', async () => {
    const a = app({ allow: LOOPBACK_ONLY, token: TOKEN });
    const ok = await a.inject({
      url: '/metrics',
      remoteAddress: '198.51.100.4',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.statusCode).toBe(200);
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      'Bearer',
      'x'.repeat(10_000),
    ]) {
      const res = await a.inject({
        url: '/metrics',
        remoteAddress: '198.51.100.4',
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.statusCode, authorization?.slice(0, 20)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    }
  });

  it('follows an allowlist of addresses and CIDR ranges', async () => {
    const a = app({ allow: ['10.0.0.0/8', '2001:db8::/32'], token: undefined });
    expect((await a.inject({ url: '/metrics', remoteAddress: '10.20.30.40' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/metrics', remoteAddress: '2001:db8::9' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(403);
  });

  it('names the process metrics once (handset_process_*, not handset_process_process_*)', async () => {
    const body = (await app().inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    expect(body).toContain('handset_process_cpu_seconds_total');
    expect(body).toContain('handset_nodejs_heap_size_used_bytes');
    expect(body).not.toContain('handset_process_process_');
    expect(body).not.toContain('handset_process_nodejs_');
  });

  it('parses allowlist entries strictly, in the configuration too', () => {
    expect(parseAllowEntry('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseAllowEntry('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.1/8/1', '10.0.0.0/x', '', '1.2.3.4/ 8'])
      expect(parseAllowEntry(bad), bad).toBeUndefined();
    expect(() => new MetricsAccess({ allow: ['nope'], token: undefined })).toThrow(/nope/);
    const c = loadServerConfig({ HANDSET_METRICS_ALLOW: '10.1.0.0/16, 192.0.2.1', HANDSET_METRICS_TOKEN: TOKEN });
    expect(c.metrics).toEqual({ allow: ['10.1.0.0/16', '192.0.2.1'], token: TOKEN });
    expect(loadServerConfig({}).metrics).toEqual({ allow: LOOPBACK_ONLY, token: undefined });
    expect(() => loadServerConfig({ HANDSET_METRICS_ALLOW: 'everyone' })).toThrow(ConfigError);
    expect(() => loadServerConfig({ HANDSET_METRICS_TOKEN: 'short' })).toThrow(
      /HANDSET_METRICS_TOKEN must be at least 16/,
    );
  });
});
