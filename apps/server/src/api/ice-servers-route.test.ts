import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TurnCredentials } from '../config/turn-credentials.js';
import { ICE_SERVERS_PATH, registerIceServersRoute, type IceServersCaller } from './ice-servers-route.js';

const TOKENS: Record<string, IceServersCaller> = {
  'good-token': { userId: 'u-1', email: 'alice@example.test' },
  'other-token': { userId: 'u-2' },
};

describe('GET /api/v1/webrtc/ice-servers', () => {
  const app = Fastify();
  const seen: string[] = [];
  beforeAll(async () => {
    registerIceServersRoute(app, {
      authenticate: async (t) => {
        seen.push(t);
        return TOKENS[t];
      },
      credentials: new TurnCredentials(
        {
          urls: ['stun:turn.example.test', 'turn:turn.example.test?transport=udp'],
          turnSecret: 'a-secret-of-16-chars',
          turnTtlS: 600,
        },
        () => 1_000_000_000_000,
      ),
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const get = (headers: Record<string, string>) => app.inject({ method: 'GET', url: ICE_SERVERS_PATH, headers });

  it('answers STUN and TURN with credentials bound to the caller for a Bearer token', async () => {
    const res = await get({ authorization: 'Bearer good-token' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ iceServers: { urls: string[]; username?: string; credential?: string }[]; ttlS: number }>();
    expect(body.ttlS).toBe(600);
    expect(body.iceServers[0]).toEqual({ urls: ['stun:turn.example.test'] });
    expect(body.iceServers[1]).toMatchObject({
      urls: ['turn:turn.example.test?transport=udp'],
      username: '1000000600:u-1',
    });
    expect(body.iceServers[1]!.credential).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('accepts the token header too, and another user gets another username', async () => {
    const res = await get({ token: 'other-token' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ iceServers: { username?: string }[] }>().iceServers[1]!.username).toBe('1000000600:u-2');
  });

  it('refuses a missing, unknown, malformed or oversized token with 401 and no servers', async () => {
    const before = seen.length;
    for (const headers of [
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'Basic Z29vZC10b2tlbg==' },
      { authorization: 'Bearer good-token extra' },
      { authorization: `Bearer ${'x'.repeat(10_000)}` },
      { token: '   ' },
    ]) {
      const res = await get(headers);
      expect(res.statusCode, JSON.stringify(headers).slice(0, 80)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).not.toContain('turn:');
      expect(res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    }
    // The oversized token was refused unread; only 'nope' reached the authenticator.
    expect(seen.slice(before)).toEqual(['nope']);
  });
});
