import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadServerConfig } from './server-config.js';
import { TurnCredentials } from './turn-credentials.js';

const SECRET = 'north-wind-blows-cold';

describe('TURN REST credentials (coturn use-auth-secret)', () => {
  it('username is <expiry>:<user> and the credential is base64 HMAC-SHA1 of it under the secret', () => {
    const now = Date.UTC(2026, 0, 1);
    const t = new TurnCredentials(
      {
        urls: [
          'stun:turn.example.test:3478',
          'turn:turn.example.test:3478?transport=udp',
          'turns:turn.example.test:5349',
        ],
        turnSecret: SECRET,
        turnTtlS: 3600,
      },
      () => now,
    );
    const servers = t.iceServersFor('user-42');
    expect(servers[0]).toEqual({ urls: ['stun:turn.example.test:3478'] });
    const turn = servers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:5349']);
    expect(turn.username).toBe(`${now / 1000 + 3600}:user-42`);
    // The value coturn computes for the same username and static-auth-secret.
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));
    expect(turn.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('a colon in the user cannot forge another timestamp field', () => {
    const t = new TurnCredentials({ urls: ['turn:t.example.test'], turnSecret: SECRET, turnTtlS: 60 }, () => 0);
    expect(t.iceServersFor('9999999999:evil')[0]!.username).toBe('60:9999999999_evil');
  });

  it('without a secret only STUN is served, and nothing at all without URLs', () => {
    expect(
      new TurnCredentials({ urls: ['stun:s.example.test'], turnSecret: undefined, turnTtlS: 60 }).iceServersFor('u'),
    ).toEqual([{ urls: ['stun:s.example.test'] }]);
    expect(new TurnCredentials({ urls: [], turnSecret: undefined, turnTtlS: 60 }).iceServersFor('u')).toEqual([]);
  });
});

describe('HANDSET_TURN_* settings', () => {
  it('default to no ICE servers and a one-day TTL', () => {
    expect(loadServerConfig({}, '/srv').ice).toEqual({ urls: [], turnSecret: undefined, turnTtlS: 86_400 });
  });

  it('read the URL list, the secret and the TTL', () => {
    const c = loadServerConfig(
      {
        HANDSET_TURN_URLS: ' stun:a.test:3478 , turn:a.test:3478?transport=tcp,',
        HANDSET_TURN_SECRET: SECRET,
        HANDSET_TURN_TTL_S: '600',
      },
      '/srv',
    );
    expect(c.ice).toEqual({
      urls: ['stun:a.test:3478', 'turn:a.test:3478?transport=tcp'],
      turnSecret: SECRET,
      turnTtlS: 600,
    });
  });

  it('refuse TURN URLs without a secret, junk URLs and a short secret, without echoing the secret', () => {
    expect(() => loadServerConfig({ HANDSET_TURN_URLS: 'turn:a.test' })).toThrow(/HANDSET_TURN_SECRET must be set/);
    expect(() => loadServerConfig({ HANDSET_TURN_URLS: 'http://a.test' })).toThrow(/HANDSET_TURN_URLS must list/);
    expect(() => loadServerConfig({ HANDSET_TURN_TTL_S: '0' })).toThrow(ConfigError);
    try {
      loadServerConfig({ HANDSET_TURN_SECRET: 'short-secret' });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toMatch(/HANDSET_TURN_SECRET must be at least 16/);
      expect(String(err)).not.toContain('short-secret');
    }
  });
});
