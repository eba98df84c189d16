import { describe, expect, it, vi } from 'vitest';
import { parseAuthHeader } from './auth-header-parser.js';
import { formatAuthHeader } from './auth-header-formatter.js';
import { computeAuthorization } from './compute-authorization.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithmName } from './digest-algorithm.js';
import { DigestAuthenticator, type CredentialLookup, type DigestAuthenticatorOptions } from './digest-authenticator.js';
import { computeHa1 } from './digest-response.js';
import { pickParsedCredentials } from './pick-credentials.js';

const REALM = 'biloxi.com';
const URI = 'sip:biloxi.com';
const KEY = 'a-test-key-of-at-least-16-bytes';
const ALL: DigestAlgorithmName[] = ['SHA-512-256', 'SHA-256', 'MD5', 'SHA-512-256-sess', 'SHA-256-sess', 'MD5-sess'];

const users: Record<string, string> = { bob: 'zanzibar', alice: 'wonderland' };
const lookup: CredentialLookup = async (username) => {
  const password = users[username];
  return password === undefined ? undefined : { password };
};

function setup(options: Partial<DigestAuthenticatorOptions> = {}) {
  let now = 1_700_000_000_000;
  const auth = new DigestAuthenticator({ key: KEY, nonceTtlMs: 30_000, clock: () => now, ...options });
  return { auth, advance: (ms: number) => (now += ms) };
}

/** The challenge value offered for `algorithm`. */
function challengeFor(auth: DigestAuthenticator, algorithm: DigestAlgorithmName = 'SHA-256', stale = false) {
  const value = auth.challenge(REALM, { stale }).find((c) => c.includes(`algorithm=${algorithm},`));
  if (value === undefined) throw new Error(`no ${algorithm} challenge`);
  return value;
}

function param(value: string, name: string): string | undefined {
  const r = parseAuthHeader(value);
  return r.ok ? r.header.params.get(name) : undefined;
}

describe('DigestAuthenticator.challenge', () => {
  it('offers one challenge per algorithm, most preferred first, with qop="auth" and one fresh nonce', () => {
    const { auth } = setup();
    const values = auth.challenge(REALM);
    expect(values.map((v) => param(v, 'algorithm'))).toEqual(['SHA-256', 'MD5']);
    for (const v of values) {
      expect(v.startsWith('Digest ')).toBe(true);
      expect(v).toContain('qop="auth"');
      expect(param(v, 'realm')).toBe(REALM);
      expect(v).not.toContain('stale');
    }
    expect(param(values[0]!, 'nonce')).toBe(param(values[1]!, 'nonce'));
    expect(param(auth.challenge(REALM)[0]!, 'nonce')).not.toBe(param(values[0]!, 'nonce'));
  });

  it.each([REALM, 'we say "hi" \\ here', 'odd\u0001realm'])(
    'writes every challenge for realm %j exactly as the formatter does, with a fresh nonce each time',
    (realm) => {
      const { auth } = setup();
      for (const stale of [false, true, false, true]) {
        const values = auth.challenge(realm, { stale });
        const nonce = /nonce="([^"]+)"/.exec(values[0]!)![1]!;
        const expected = ['SHA-256', 'MD5'].map((algorithm) =>
          formatAuthHeader('Digest', [
            ['realm', realm],
            ['nonce', nonce],
            ['algorithm', algorithm],
            ['qop', 'auth', 'quoted'],
            ...(stale ? ([['stale', 'true']] as const) : []),
          ]),
        );
        expect(values).toEqual(expected);
      }
      expect(auth.challenge(realm)[0]).not.toContain(/nonce="([^"]+)"/.exec(auth.challenge(realm)[0]!)![1]!);
    },
  );

  it('adds stale=true when asked', () => {
    const { auth } = setup();
    expect(auth.challenge(REALM, { stale: true })[0]).toContain('stale=true');
  });

  it('refuses to be configured with an unknown algorithm', () => {
    expect(() => setup({ algorithms: ['SHA-1' as DigestAlgorithmName] })).toThrow(
      expect.objectContaining({ code: 'DIGEST_INVALID_OPTION' }),
    );
  });
});

describe('DigestAuthenticator.verify', () => {
  for (const algorithm of ALL) {
    for (const qop of ['auth', 'auth-int'] as const) {
      it(`accepts correct ${algorithm} credentials with qop=${qop}`, async () => {
        const { auth } = setup({ algorithms: ALL, qop: ['auth', 'auth-int'] });
        const body = 'v=0\r\ns=-\r\n';
        const credentials = computeAuthorization(challengeFor(auth, algorithm), {
          username: 'bob',
          password: 'zanzibar',
          method: 'INVITE',
          uri: URI,
          qop,
          body,
        });
        expect(param(credentials, 'qop')).toBe(qop);
        const result = await auth.verify({ method: 'INVITE', credentials, realm: REALM, lookup, body });
        expect(result).toEqual({ ok: true, username: 'bob', algorithm, uri: URI });
      });
    }
  }

  it('accepts RFC 2069-style credentials without qop by default, and refuses them when told to', async () => {
    for (const allowNoQop of [true, false]) {
      const { auth } = setup({ allowNoQop });
      const noQopChallenge = challengeFor(auth, 'MD5').replace(', qop="auth"', '');
      const credentials = computeAuthorization(noQopChallenge, {
        username: 'bob',
        password: 'zanzibar',
        method: 'REGISTER',
        uri: URI,
      });
      expect(param(credentials, 'qop')).toBeUndefined();
      const result = await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup });
      expect(result.ok).toBe(allowNoQop);
    }
  });

  it('takes a nonce answered without qop once: the same credentials again get stale, a fresh nonce works', async () => {
    const { auth } = setup();
    const noQop = (challenge: string) =>
      computeAuthorization(challenge.replace(', qop="auth"', ''), {
        username: 'bob',
        password: 'zanzibar',
        method: 'REGISTER',
        uri: URI,
      });
    const credentials = noQop(challengeFor(auth, 'MD5'));
    const verify = (c: string) => auth.verify({ method: 'REGISTER', credentials: c, realm: REALM, lookup });
    expect((await verify(credentials)).ok).toBe(true);
    expect(await verify(credentials)).toEqual({ ok: false, reason: 'stale' });
    expect((await verify(noQop(challengeFor(auth, 'MD5')))).ok).toBe(true);
    // A nonce used with qop cannot then be used without it (and the other way round).
    const challenge = challengeFor(auth, 'MD5');
    const withQop = computeAuthorization(challenge, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect((await verify(withQop)).ok).toBe(true);
    expect(await verify(noQop(challenge))).toEqual({ ok: false, reason: 'stale' });
  });

  it('answers qop-required for credentials without qop when the request requires qop, before any lookup', async () => {
    const { auth } = setup();
    const spy = vi.fn(lookup);
    const credentials = computeAuthorization(challengeFor(auth, 'MD5').replace(', qop="auth"', ''), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    const result = await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: spy, requireQop: true });
    expect(result).toEqual({ ok: false, reason: 'qop-required' });
    expect(spy).not.toHaveBeenCalled();
  });

  it('answers foreign-nonce, without a lookup, for credentials answering a challenge sent to another source', async () => {
    const { auth } = setup();
    const spy = vi.fn(lookup);
    const challenge = auth.challenge(REALM, { binding: 'udp 127.0.0.2' })[0]!;
    const credentials = computeAuthorization(challenge, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    const from = (binding: string | undefined) =>
      auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: spy, binding });
    expect(await from('udp 127.0.0.3')).toEqual({ ok: false, reason: 'foreign-nonce' });
    expect(await from(undefined)).toEqual({ ok: false, reason: 'foreign-nonce' });
    expect(spy).not.toHaveBeenCalled();
    expect((await from('udp 127.0.0.2')).ok).toBe(true);
  });

  it('verifies a value chosen and parsed by pickParsedCredentials as it verifies the raw value, replays included', async () => {
    const { auth } = setup();
    const answer = (password: string) =>
      computeAuthorization(challengeFor(auth, 'SHA-256'), { username: 'bob', password, method: 'REGISTER', uri: URI });
    const good = answer('zanzibar');
    const wrong = answer('nope');
    const other = good.replace(`realm="${REALM}"`, 'realm="atlanta.com"');
    const picked = pickParsedCredentials([other, 'Digest realm="biloxi.com', good], REALM);
    expect(picked?.value).toBe(good);
    expect((await auth.verify({ method: 'REGISTER', credentials: picked?.header, realm: REALM, lookup })).ok).toBe(
      true,
    );
    // The same nonce and nc again, parsed or not, is a replay.
    expect(await auth.verify({ method: 'REGISTER', credentials: picked?.header, realm: REALM, lookup })).toMatchObject({
      ok: false,
      reason: 'replay',
    });
    expect(await auth.verify({ method: 'REGISTER', credentials: good, realm: REALM, lookup })).toMatchObject({
      ok: false,
      reason: 'replay',
    });
    const bad = pickParsedCredentials([wrong], REALM)?.header;
    expect(await auth.verify({ method: 'REGISTER', credentials: bad, realm: REALM, lookup })).toMatchObject({
      ok: false,
      reason: 'bad-response',
    });
    // Nothing for our realm: as if no credentials were sent (a challenge follows).
    const none = pickParsedCredentials([other], REALM);
    expect(none).toBeUndefined();
    expect(await auth.verify({ method: 'REGISTER', credentials: none?.header, realm: REALM, lookup })).toMatchObject({
      ok: false,
      reason: 'missing',
    });
  });

  it('verifies against stored HA1 values keyed by base algorithm, -sess included', async () => {
    const { auth } = setup({ algorithms: ['SHA-256-sess', 'MD5'] });
    const ha1Lookup: CredentialLookup = async (username, realm) => ({
      ha1: {
        'SHA-256': computeHa1(DIGEST_ALGORITHMS['SHA-256'], username, realm, 'zanzibar').toUpperCase(),
        MD5: computeHa1(DIGEST_ALGORITHMS.MD5, username, realm, 'zanzibar'),
      },
    });
    for (const algorithm of ['SHA-256-sess', 'MD5'] as const) {
      const credentials = computeAuthorization(challengeFor(auth, algorithm), {
        username: 'bob',
        password: 'zanzibar',
        method: 'REGISTER',
        uri: URI,
      });
      expect((await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: ha1Lookup })).ok).toBe(true);
    }
  });

  it('answers bad-response when a stored HA1 exists only for another algorithm', async () => {
    const { auth } = setup();
    const md5Only: CredentialLookup = async (u, r) => ({
      ha1: { MD5: computeHa1(DIGEST_ALGORITHMS.MD5, u, r, 'zanzibar') },
    });
    const credentials = computeAuthorization(challengeFor(auth, 'SHA-256'), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: md5Only })).toEqual({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('answers bad-response for a wrong password', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'bob',
      password: 'guess',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('answers an unknown user exactly like a wrong password, after the same lookup and hashing', async () => {
    const { auth } = setup();
    const spy = vi.fn(lookup);
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'mallory',
      password: 'x',
      method: 'REGISTER',
      uri: URI,
    });
    const result = await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: spy });
    expect(result).toEqual({ ok: false, reason: 'bad-response' });
    expect(spy).toHaveBeenCalledWith('mallory', REALM);
  });

  it('answers bad-response when the username is not the expected one, even with its right password', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'alice',
      password: 'wonderland',
      method: 'REGISTER',
      uri: URI,
    });
    expect(
      await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup, expectedUsername: 'bob' }),
    ).toEqual({
      ok: false,
      reason: 'bad-response',
    });
    expect(
      (await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup, expectedUsername: 'alice' })).ok,
    ).toBe(true);
  });

  it('answers bad-response when the method or the body differs from what was signed', async () => {
    const { auth } = setup({ qop: ['auth-int'] });
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'bob',
      password: 'zanzibar',
      method: 'MESSAGE',
      uri: URI,
      body: 'hello',
    });
    expect((await auth.verify({ method: 'INVITE', credentials, realm: REALM, lookup, body: 'hello' })).ok).toBe(false);
    expect(await auth.verify({ method: 'MESSAGE', credentials, realm: REALM, lookup, body: 'hell0' })).toEqual({
      ok: false,
      reason: 'bad-response',
    });
    expect((await auth.verify({ method: 'MESSAGE', credentials, realm: REALM, lookup, body: 'hello' })).ok).toBe(true);
  });

  it('answers stale for correct credentials on an expired nonce', async () => {
    const { auth, advance } = setup();
    const challenge = challengeFor(auth);
    advance(30_001);
    const credentials = computeAuthorization(challenge, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('answers bad-response, not stale, for a wrong password on an expired nonce (RFC 7616 §3.3)', async () => {
    const { auth, advance } = setup();
    const challenge = challengeFor(auth);
    advance(60_000);
    const credentials = computeAuthorization(challenge, {
      username: 'bob',
      password: 'nope',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('answers invalid-nonce for a forged nonce, without looking the user up', async () => {
    const { auth } = setup();
    const spy = vi.fn(lookup);
    const forged = `Digest realm="${REALM}", nonce="${'A'.repeat(64)}", algorithm=SHA-256, qop="auth"`;
    const credentials = computeAuthorization(forged, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: spy })).toEqual({
      ok: false,
      reason: 'invalid-nonce',
    });
    expect(spy).not.toHaveBeenCalled();
  });

  it('answers invalid-nonce for a nonce from another authenticator key', async () => {
    const { auth } = setup();
    const other = new DigestAuthenticator({ key: 'some-other-key-16+bytes', clock: () => 1_700_000_000_000 });
    const credentials = computeAuthorization(other.challenge(REALM)[0]!, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'invalid-nonce',
    });
  });

  it('answers replay for a repeated or lower nonce-count, and accepts the next one', async () => {
    const { auth } = setup();
    const challenge = challengeFor(auth);
    const make = (nc: number) =>
      computeAuthorization(challenge, { username: 'bob', password: 'zanzibar', method: 'REGISTER', uri: URI, nc });
    const verify = (credentials: string) => auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup });
    expect((await verify(make(1))).ok).toBe(true);
    expect(await verify(make(1))).toEqual({ ok: false, reason: 'replay' });
    expect((await verify(make(3))).ok).toBe(true);
    expect(await verify(make(2))).toEqual({ ok: false, reason: 'replay' });
    expect((await verify(make(4))).ok).toBe(true);
  });

  it('does not let a forged request advance the nonce-count and lock out the real client', async () => {
    const { auth } = setup();
    const challenge = challengeFor(auth);
    const forged = computeAuthorization(challenge, {
      username: 'bob',
      password: 'guess',
      method: 'REGISTER',
      uri: URI,
      nc: 99,
    });
    expect((await auth.verify({ method: 'REGISTER', credentials: forged, realm: REALM, lookup })).ok).toBe(false);
    const real = computeAuthorization(challenge, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
      nc: 1,
    });
    expect((await auth.verify({ method: 'REGISTER', credentials: real, realm: REALM, lookup })).ok).toBe(true);
  });

  it('answers realm-mismatch for credentials for another realm', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(auth.challenge('atlanta.com')[0]!, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'realm-mismatch',
    });
  });

  it('answers unsupported-algorithm for an algorithm not offered or not known', async () => {
    const { auth } = setup({ algorithms: ['SHA-256'] });
    const nonce = param(auth.challenge(REALM)[0]!, 'nonce')!;
    const md5 = computeAuthorization(`Digest realm="${REALM}", nonce="${nonce}", algorithm=MD5, qop="auth"`, {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    expect(await auth.verify({ method: 'REGISTER', credentials: md5, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'unsupported-algorithm',
    });
    const sha1 = md5.replace('algorithm=MD5', 'algorithm=SHA-1');
    expect(await auth.verify({ method: 'REGISTER', credentials: sha1, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'unsupported-algorithm',
    });
  });

  it('treats a missing algorithm parameter as MD5 (RFC 7616 §3.3)', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(challengeFor(auth, 'MD5'), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    }).replace(', algorithm=MD5', '');
    expect(param(credentials, 'algorithm')).toBeUndefined();
    expect((await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup })).ok).toBe(true);
  });

  it('accepts an uppercase hex response', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    const response = param(credentials, 'response')!;
    const upper = credentials.replace(response, response.toUpperCase());
    expect((await auth.verify({ method: 'REGISTER', credentials: upper, realm: REALM, lookup })).ok).toBe(true);
  });

  it('answers missing when there are no credentials', async () => {
    const { auth } = setup();
    expect(await auth.verify({ method: 'REGISTER', credentials: undefined, realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(await auth.verify({ method: 'REGISTER', credentials: '  ', realm: REALM, lookup })).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  describe('answers malformed, without throwing or looking anyone up, for', () => {
    const { auth } = setup({ qop: ['auth'] });
    const good = computeAuthorization(challengeFor(auth), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    const goodParams = (() => {
      const r = parseAuthHeader(good);
      if (!r.ok) throw new Error('unparsable fixture');
      return [...r.header.params];
    })();
    const without = (name: string) =>
      formatAuthHeader(
        'Digest',
        goodParams.filter(([n]) => n !== name).map(([n, v]) => [n, v, n === 'qop' ? 'token' : undefined] as const),
      );
    const cases: [string, string][] = [
      ['an unterminated quote', `${good}, opaque="abc`],
      ['a 100 KB value', `${good}, x="${'a'.repeat(100 * 1024)}"`],
      ['a duplicate parameter', `${good}, nonce="${param(good, 'nonce')!}"`],
      ['a missing username', without('username')],
      ['a missing nonce', without('nonce')],
      ['a missing uri', without('uri')],
      ['a missing response', without('response')],
      ['a missing realm', without('realm')],
      ['a missing cnonce with qop', without('cnonce')],
      ['a missing nc with qop', without('nc')],
      ['a short response', good.replace(/response="[0-9a-f]+"/, 'response="abcd"')],
      ['a non-hex response', good.replace(/response="[0-9a-f]{2}/, 'response="zz')],
      ['a bad nc', good.replace('nc=00000001', 'nc=1')],
      ['a zero nc', good.replace('nc=00000001', 'nc=00000000')],
      ['an unknown qop', good.replace('qop=auth', 'qop=auth-conf')],
      ['a qop that was not offered', good.replace('qop=auth', 'qop=auth-int')],
      ['userhash=true', `${good}, userhash=true`],
      ['another scheme', good.replace(/^Digest/, 'Basic')],
      ['garbage', '\u0000\u0001=,,"'],
      ['only a scheme', 'Digest'],
    ];
    it('(the unmodified fixture is accepted)', async () => {
      expect((await auth.verify({ method: 'REGISTER', credentials: good, realm: REALM, lookup })).ok).toBe(true);
    });
    it('(the "missing" cases are well-formed headers that lack exactly that parameter)', () => {
      for (const field of ['username', 'nonce', 'uri', 'response', 'realm', 'cnonce', 'nc']) {
        const r = parseAuthHeader(without(field));
        expect(r.ok && !r.header.params.has(field) && r.header.params.size === 8).toBe(true);
      }
      expect(auth).toBeDefined();
    });
    for (const [name, credentials] of cases) {
      it(name, async () => {
        const spy = vi.fn(lookup);
        const result = await auth.verify({ method: 'REGISTER', credentials, realm: REALM, lookup: spy });
        expect(result).toEqual({ ok: false, reason: 'malformed' });
        expect(spy).not.toHaveBeenCalled();
      });
    }
  });

  it('lets a lookup failure reject (a store outage is not an auth failure)', async () => {
    const { auth } = setup();
    const credentials = computeAuthorization(challengeFor(auth), {
      username: 'bob',
      password: 'zanzibar',
      method: 'REGISTER',
      uri: URI,
    });
    await expect(
      auth.verify({
        method: 'REGISTER',
        credentials,
        realm: REALM,
        lookup: () => Promise.reject(new Error('db down')),
      }),
    ).rejects.toThrow('db down');
  });
});
