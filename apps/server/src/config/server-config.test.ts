import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { reachableInterfaceAddresses } from './public-host.js';
import { loadServerConfig } from './server-config.js';

const load = (env: Record<string, string>) => loadServerConfig(env, '/srv/handset');

function errorOf(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServerConfig', () => {
  it('gives the documented defaults with an empty environment', () => {
    const c = load({});
    expect(c.dataDir).toBe('/srv/handset/data');
    expect(c.database).toEqual({ kind: 'pglite', dir: '/srv/handset/data/db' });
    expect(c.bind).toBe('0.0.0.0');
    // Every interface: the host's first reachable address (loopback only on a host without one).
    expect(c.publicHost).toBe(reachableInterfaceAddresses()[0] ?? '127.0.0.1');
    expect(c.publicHostIsDefault).toBe(true);
    expect([c.sipPort, c.sipTlsPort, c.httpPort, c.httpsPort]).toEqual([5060, 5061, 8080, 8443]);
    expect(c.tls).toBeUndefined();
    expect(c.sipTrace).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.secretKey).toBeUndefined();
    expect(c.registrar).toEqual({ minExpires: 60, maxExpires: 3600, defaultExpires: 3600, maxContacts: 10 });
    expect(c.auth).toEqual({ maxFailures: 10, windowS: 60, blockS: 300, nonceTtlS: 300, digestAlgorithms: ['MD5'] });
    expect(c.transport).toEqual({
      maxConnectionsPerIp: 64,
      maxMessageSize: 65535,
      idleTimeoutS: 120,
      udpIoThread: 'auto',
    });
    expect(c.proxy).toEqual({ ringTimeoutS: 60, dialogTimeoutS: 14400 });
  });

  it('reads every variable', () => {
    const c = load({
      HANDSET_DATA_DIR: 'var/hs',
      DATABASE_URL: 'postgres://u:p@db:5432/handset',
      HANDSET_BIND: '192.0.2.10',
      HANDSET_SIP_PORT: '0',
      HANDSET_SIP_TLS_PORT: '0',
      HANDSET_HTTP_PORT: '0',
      HANDSET_HTTPS_PORT: '9443',
      HANDSET_SIP_TRACE: '1',
      HANDSET_LOG_LEVEL: 'debug',
      HANDSET_REG_MIN_EXPIRES: '30',
      HANDSET_REG_MAX_EXPIRES: '7200',
      HANDSET_REG_DEFAULT_EXPIRES: '600',
      HANDSET_REG_MAX_CONTACTS: '3',
      HANDSET_AUTH_MAX_FAILURES: '5',
      HANDSET_AUTH_WINDOW_S: '30',
      HANDSET_AUTH_BLOCK_S: '900',
      HANDSET_NONCE_TTL_S: '120',
    });
    expect(c.dataDir).toBe('/srv/handset/var/hs');
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/handset' });
    expect(c.publicHost).toBe('192.0.2.10');
    expect([c.sipPort, c.sipTlsPort, c.httpPort, c.httpsPort]).toEqual([0, 0, 0, 9443]);
    expect(c.sipTrace).toBe(true);
    expect(c.logLevel).toBe('debug');
    expect(c.registrar).toEqual({ minExpires: 30, maxExpires: 7200, defaultExpires: 600, maxContacts: 3 });
    expect(c.auth).toEqual({ maxFailures: 5, windowS: 30, blockS: 900, nonceTtlS: 120, digestAlgorithms: ['MD5'] });
  });

  it('challenges with MD5 alone by default and takes an ordered HANDSET_DIGEST_ALGORITHMS', () => {
    expect(load({}).auth.digestAlgorithms).toEqual(['MD5']);
    expect(load({ HANDSET_DIGEST_ALGORITHMS: 'sha-256, MD5' }).auth.digestAlgorithms).toEqual(['SHA-256', 'MD5']);
    expect(() => load({ HANDSET_DIGEST_ALGORITHMS: 'SHA-1' })).toThrow(/HANDSET_DIGEST_ALGORITHMS/);
  });

  it('advertises HANDSET_PUBLIC_HOST when set', () => {
    const c = load({ HANDSET_PUBLIC_HOST: 'sip.example.com' });
    expect(c.publicHost).toBe('sip.example.com');
    expect(c.publicHostIsDefault).toBe(false);
  });

  it('treats empty variables as unset', () => {
    expect(load({ HANDSET_SIP_PORT: '', DATABASE_URL: '  ' }).sipPort).toBe(5060);
  });

  it('selects an in-memory PGlite with DATABASE_URL=memory://', () => {
    expect(load({ DATABASE_URL: 'memory://' }).database).toEqual({ kind: 'pglite', dir: undefined });
  });

  it.each([
    ['HANDSET_SIP_PORT', 'abc'],
    ['HANDSET_SIP_PORT', '70000'],
    ['HANDSET_HTTP_PORT', '-1'],
    ['HANDSET_HTTP_PORT', '80.5'],
    ['HANDSET_BIND', 'localhost'],
    ['HANDSET_SIP_TRACE', 'maybe'],
    ['HANDSET_LOG_LEVEL', 'verbose'],
    ['HANDSET_REG_MAX_CONTACTS', '0'],
    ['HANDSET_AUTH_BLOCK_S', 'ten'],
    ['HANDSET_TLS', 'yes'],
    ['HANDSET_PUBLIC_HOST', 'bad host!'],
    ['DATABASE_URL', 'mysql://x'],
    ['HANDSET_SECRET_KEY', 'too-short'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    const err = errorOf({ [name]: value });
    expect(err.code).toBe('INVALID_ENV');
    expect(err.message).toContain(name);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('does not echo the secret key or the database URL in errors', () => {
    const err = errorOf({ HANDSET_SECRET_KEY: 'hunter2-hunter2', DATABASE_URL: 'mysql://user:pw@h/db' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('pw@');
    expect(err.message).toContain('HANDSET_SECRET_KEY');
    expect(err.message).toContain('DATABASE_URL');
  });

  it('reads the SMTP URL and From address, and does not echo a bad SMTP URL (it holds a password)', () => {
    expect(load({}).mail).toEqual({ smtpUrl: undefined, from: 'Handset <handset@localhost>' });
    const c = load({ HANDSET_SMTP_URL: 'smtps://u:p@mail.example:465', HANDSET_MAIL_FROM: 'Acme <pbx@acme.example>' });
    expect(c.mail).toEqual({ smtpUrl: 'smtps://u:p@mail.example:465', from: 'Acme <pbx@acme.example>' });
    const err = errorOf({ HANDSET_SMTP_URL: 'http://u:s3cret@mail.example', HANDSET_MAIL_FROM: 'no address' });
    expect(err.message).toContain('HANDSET_SMTP_URL');
    expect(err.message).toContain('HANDSET_MAIL_FROM');
    expect(err.message).not.toContain('s3cret');
  });

  it('reads REDIS_URL for clustering, and does not echo a bad one', () => {
    expect(load({}).redisUrl).toBeUndefined();
    expect(load({ REDIS_URL: 'redis://:pw@cache.example:6379/0' }).redisUrl).toBe('redis://:pw@cache.example:6379/0');
    const err = errorOf({ REDIS_URL: 'http://:t0ps3cret@cache.example' });
    expect(err.message).toContain('REDIS_URL');
    expect(err.message).not.toContain('t0ps3cret');
  });

  it('limits provisioning to 60 requests a minute per source unless HANDSET_PROVISION_RATE_LIMIT says otherwise', () => {
    expect(load({}).provisioning).toEqual({ rateLimitPerMinute: 60 });
    expect(load({ HANDSET_PROVISION_RATE_LIMIT: '6000' }).provisioning.rateLimitPerMinute).toBe(6000);
    expect(load({ HANDSET_PROVISION_RATE_LIMIT: ' 0 ' }).provisioning.rateLimitPerMinute).toBe(0);
    for (const bad of ['-1', '1.5', 'off', '60/min', '10000001']) {
      const err = errorOf({ HANDSET_PROVISION_RATE_LIMIT: bad });
      expect(err.message).toContain('HANDSET_PROVISION_RATE_LIMIT');
      expect(err.message).toContain(`(got "${bad}")`);
    }
  });

  it('reads HANDSET_PARALLEL_SCAVENGE as auto, on or off (auto by default)', () => {
    expect(load({}).parallelScavenge).toBe('auto');
    expect(load({ HANDSET_PARALLEL_SCAVENGE: 'off' }).parallelScavenge).toBe('off');
    expect(load({ HANDSET_PARALLEL_SCAVENGE: 'on' }).parallelScavenge).toBe('on');
    for (const bad of ['yes', 'OFF ', '2']) {
      const err = errorOf({ HANDSET_PARALLEL_SCAVENGE: bad });
      expect(err.message).toContain('HANDSET_PARALLEL_SCAVENGE must be "auto", "on" or "off"');
    }
  });

  it('reads HANDSET_UDP_IO_THREAD as auto, on, worker or off (auto by default)', () => {
    expect(load({ HANDSET_UDP_IO_THREAD: 'off' }).transport.udpIoThread).toBe('off');
    expect(load({ HANDSET_UDP_IO_THREAD: 'on' }).transport.udpIoThread).toBe('on');
    expect(load({ HANDSET_UDP_IO_THREAD: 'worker' }).transport.udpIoThread).toBe('worker');
    for (const bad of ['true', 'On', '1']) {
      const err = errorOf({ HANDSET_UDP_IO_THREAD: bad });
      expect(err.message).toContain('HANDSET_UDP_IO_THREAD must be "auto", "on", "worker" or "off"');
    }
  });

  it("reads the media plane: anchoring mode, external rtpengines, the private one's ports", () => {
    expect(load({}).media).toEqual({
      anchor: 'auto',
      rtpengines: undefined,
      binary: 'rtpengine',
      portMin: 30000,
      portMax: 40000,
      rtpAddress: undefined,
    });
    const m = load({
      HANDSET_MEDIA_ANCHOR: 'always',
      HANDSET_RTPENGINE: 'udp:10.0.0.5:2223, 10.0.0.6:2224,udp:[::1]:2225',
      HANDSET_RTP_PORT_MIN: '20000',
      HANDSET_RTP_PORT_MAX: '20999',
      HANDSET_RTP_ADDRESS: '10.0.0.2',
    }).media;
    expect(m.anchor).toBe('always');
    expect(m.rtpengines).toEqual([
      { host: '10.0.0.5', port: 2223 },
      { host: '10.0.0.6', port: 2224 },
      { host: '::1', port: 2225 },
    ]);
    expect([m.portMin, m.portMax, m.rtpAddress]).toEqual([20000, 20999, '10.0.0.2']);
  });

  it.each([
    ['HANDSET_MEDIA_ANCHOR', 'sometimes'],
    ['HANDSET_RTPENGINE', 'tcp:10.0.0.5:2223'],
    ['HANDSET_RTPENGINE', 'udp:10.0.0.5'],
    ['HANDSET_RTPENGINE', 'udp:10.0.0.5:99999'],
    ['HANDSET_RTPENGINE', 'udp:host with spaces:22'],
    ['HANDSET_RTP_PORT_MIN', '80'],
    ['HANDSET_RTP_ADDRESS', 'not-an-ip'],
  ])('refuses %s=%s and names it', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(new RegExp(name));
  });

  it('refuses a media port range too small for one call', () => {
    expect(() => load({ HANDSET_RTP_PORT_MIN: '30000', HANDSET_RTP_PORT_MAX: '30001' })).toThrow(
      /HANDSET_RTP_PORT_MAX/,
    );
  });

  it('names every bad variable at once', () => {
    const err = errorOf({ HANDSET_SIP_PORT: 'x', HANDSET_HTTP_PORT: 'y' });
    expect(err.message).toContain('HANDSET_SIP_PORT');
    expect(err.message).toContain('HANDSET_HTTP_PORT');
  });

  it('rejects a minimum expiry above the maximum, and a default outside them', () => {
    expect(errorOf({ HANDSET_REG_MIN_EXPIRES: '4000' }).message).toContain('HANDSET_REG_MIN_EXPIRES');
    expect(errorOf({ HANDSET_REG_DEFAULT_EXPIRES: '10' }).message).toContain('HANDSET_REG_DEFAULT_EXPIRES');
  });

  it('accepts the secret key as hex or base64', () => {
    const key = Buffer.alloc(32, 7);
    expect(load({ HANDSET_SECRET_KEY: key.toString('hex') }).secretKey).toEqual(key);
    expect(load({ HANDSET_SECRET_KEY: key.toString('base64') }).secretKey).toEqual(key);
    expect(load({ HANDSET_SECRET_KEY: key.toString('base64url') }).secretKey).toEqual(key);
    expect(errorOf({ HANDSET_SECRET_KEY: Buffer.alloc(16).toString('hex') }).message).toContain('HANDSET_SECRET_KEY');
  });

  describe('TLS', () => {
    it('uses operator files, resolved against the working directory', () => {
      const c = load({ HANDSET_TLS_CERT: 'tls/cert.pem', HANDSET_TLS_KEY: '/etc/key.pem' });
      expect(c.tls).toEqual({ source: 'files', certPath: '/srv/handset/tls/cert.pem', keyPath: '/etc/key.pem' });
    });

    it('puts a self-signed pair in the data dir', () => {
      const c = load({ HANDSET_TLS: 'self-signed', HANDSET_DATA_DIR: '/d' });
      expect(c.tls).toEqual({ source: 'self-signed', certPath: '/d/tls/cert.pem', keyPath: '/d/tls/key.pem' });
    });

    it('needs both a certificate and a key', () => {
      expect(errorOf({ HANDSET_TLS_CERT: 'c.pem' }).message).toContain('HANDSET_TLS_KEY');
      expect(errorOf({ HANDSET_TLS_KEY: 'k.pem' }).message).toContain('HANDSET_TLS_CERT');
    });

    it('refuses self-signed together with files', () => {
      expect(errorOf({ HANDSET_TLS: 'self-signed', HANDSET_TLS_CERT: 'c', HANDSET_TLS_KEY: 'k' }).message).toContain(
        'HANDSET_TLS',
      );
    });

    it('HANDSET_TLS=off leaves TLS off', () => {
      expect(load({ HANDSET_TLS: 'off' }).tls).toBeUndefined();
    });
  });
});
