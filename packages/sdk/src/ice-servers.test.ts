import { describe, expect, it } from 'vitest';
import { ErrorReason } from './handset-error.js';
import { fetchIceServers, ICE_SERVERS_PATH } from './ice-servers.js';

const answer = (status: number, body: unknown) => async () =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });

describe('fetchIceServers', () => {
  it('sends the token as a Bearer header and returns the servers', async () => {
    let seen: { url: string; auth: string | null } | undefined;
    const servers = await fetchIceServers({
      baseUrl: 'https://pbx.example.test',
      token: 'tok',
      fetch: async (url, init) => {
        seen = { url: (url as URL).href, auth: new Headers(init?.headers).get('authorization') };
        return new Response(
          JSON.stringify({ iceServers: [{ urls: ['turn:t.example.test'], username: 'u', credential: 'c' }] }),
        );
      },
    });
    expect(seen).toEqual({ url: `https://pbx.example.test${ICE_SERVERS_PATH}`, auth: 'Bearer tok' });
    expect(servers).toEqual([{ urls: ['turn:t.example.test'], username: 'u', credential: 'c' }]);
  });

  it('turns a refusal, a malformed body or a network error into connection-failed', async () => {
    const base = { baseUrl: 'https://pbx.example.test', token: 't' };
    for (const f of [
      answer(401, { error: {} }),
      answer(200, 'not json'),
      answer(200, { iceServers: 'x' }),
      answer(200, { iceServers: [{ urls: 42 }] }),
      async () => {
        throw new TypeError('network down');
      },
    ]) {
      await expect(fetchIceServers({ ...base, fetch: f })).rejects.toMatchObject({
        reason: ErrorReason.ConnectionFailed,
      });
    }
  });
});
