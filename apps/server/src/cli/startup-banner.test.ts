import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config/server-config.js';
import { formatBanner, summarizeStartup } from './startup-banner.js';

const ports = { httpPort: 8080, httpsPort: undefined, sipPorts: { udp: 5060, tcp: 5060, ws: 8080 } };

describe('start-up banner', () => {
  it('lists the URLs, SIP transports, public host and database, and what each missing part means', () => {
    const config = loadServerConfig({ HANDSET_PUBLIC_HOST: 'pbx.example.com' }, '/srv/handset');
    const s = summarizeStartup(config, ports, '0.1.0');
    expect(s.urls.webPhone).toBe('http://pbx.example.com:8080/');
    expect(s.urls.apiDocs).toBe('http://pbx.example.com:8080/api/docs');
    expect(s.urls.console).toBe('http://pbx.example.com:8080/console/');
    expect(s.sip).toEqual([
      { transport: 'udp', port: 5060 },
      { transport: 'tcp', port: 5060 },
      { transport: 'ws', port: 8080, uri: 'ws://pbx.example.com:8080/sip' },
    ]);
    expect(s.publicHostSource).toBe('environment');
    expect(s.database).toBe('embedded PGlite in /srv/handset/data/db');
    expect(s.optional.map((p) => [p.name, p.on])).toEqual([
      ['TLS', false],
      ['rtpengine', false],
      ['Redis', false],
      ['TURN', false],
      ['SMTP', false],
    ]);
    const tls = s.optional.find((p) => p.name === 'TLS')!;
    expect(tls.detail).toContain('HANDSET_TLS=self-signed');
    expect(s.warnings).toEqual([]);
    const text = formatBanner(s);
    expect(text).toContain('Web phone    http://pbx.example.com:8080/');
    expect(text).toContain('SMTP');
  });

  it('shows HTTPS URLs and the parts that are on', () => {
    const config = loadServerConfig(
      {
        HANDSET_PUBLIC_HOST: '2001:db8::1',
        HANDSET_TLS: 'self-signed',
        REDIS_URL: 'redis://127.0.0.1:6379',
        HANDSET_SMTP_URL: 'smtp://u:p@mail.example.com:587',
        HANDSET_TURN_URLS: 'turn:turn.example.com:3478',
        HANDSET_TURN_SECRET: 'a-long-enough-secret',
        DATABASE_URL: 'postgres://handset:pw@db.example.com:5432/handset',
      },
      '/srv',
    );
    const s = summarizeStartup(
      config,
      { httpPort: 8080, httpsPort: 443, sipPorts: { udp: 5060, tls: 5061, wss: 443 } },
      '0.1.0',
    );
    expect(s.urls.webPhone).toBe('https://[2001:db8::1]/');
    expect(s.sip.map((p) => p.uri ?? p.transport)).toEqual(['udp', 'tls', 'wss://[2001:db8::1]:443/sip']);
    expect(s.optional.filter((p) => p.on).map((p) => p.name)).toEqual(['TLS', 'Redis', 'TURN', 'SMTP']);
    expect(s.database).toBe('PostgreSQL db.example.com:5432/handset');
    expect(JSON.stringify(s)).not.toContain('pw');
  });

  it('warns loudly when loopback is advertised while listening on every interface', () => {
    const config = loadServerConfig({ HANDSET_PUBLIC_HOST: '127.0.0.1' }, '/srv');
    const s = summarizeStartup(config, ports, '0.1.0');
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toContain('HANDSET_PUBLIC_HOST');
    expect(formatBanner(s)).toContain('WARNING:');
    const local = summarizeStartup(loadServerConfig({ HANDSET_BIND: '127.0.0.1' }, '/srv'), ports, '0.1.0');
    expect(local.warnings).toEqual([]);
  });
});
