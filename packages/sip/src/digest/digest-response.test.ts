import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DIGEST_ALGORITHMS, parseDigestAlgorithm } from './digest-algorithm.js';
import { computeDigestResponse, computeHa1 } from './digest-response.js';
import { computeAuthorization } from './compute-authorization.js';
import { parseAuthHeader } from './auth-header-parser.js';

// RFC 7616 §3.9.1: one GET answered with MD5 and with SHA-256.
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  md5: '8ca523f5e9506fed4657c9700eebdbec',
  sha256: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};

const responseOf = (authorization: string) => {
  const r = parseAuthHeader(authorization);
  if (!r.ok) throw new Error(r.error);
  return r.header.params;
};

describe('computeDigestResponse', () => {
  it.each([
    ['MD5', RFC7616.md5],
    ['SHA-256', RFC7616.sha256],
  ] as const)('gives the RFC 7616 §3.9.1 %s response', (name, expected) => {
    const algorithm = DIGEST_ALGORITHMS[name];
    const response = computeDigestResponse({
      algorithm,
      ha1: computeHa1(algorithm, RFC7616.username, RFC7616.realm, RFC7616.password),
      nonce: RFC7616.nonce,
      method: 'GET',
      uri: RFC7616.uri,
      qop: 'auth',
      nc: '00000001',
      cnonce: RFC7616.cnonce,
    });
    expect(response).toBe(expected);
  });

  it('answers right for the same uri under other methods and algorithms, one after the other', () => {
    // H(A2) is remembered by uri: a change of method or algorithm alone must not reuse it.
    const h = (alg: string, s: string) => createHash(alg).update(s).digest('hex');
    const cases = [
      ['MD5', 'md5', 'REGISTER'],
      ['MD5', 'md5', 'INVITE'],
      ['SHA-256', 'sha256', 'INVITE'],
      ['MD5', 'md5', 'REGISTER'],
      ['SHA-256', 'sha256', 'REGISTER'],
    ] as const;
    for (const [name, alg, method] of cases) {
      const ha1 = h(alg, 'alice:example.com:pw');
      const expected = h(alg, `${ha1}:n1:00000002:c1:auth:${h(alg, `${method}:sip:example.com`)}`);
      const got = computeDigestResponse({
        algorithm: DIGEST_ALGORITHMS[name],
        ha1,
        nonce: 'n1',
        method,
        uri: 'sip:example.com',
        qop: 'auth',
        nc: '00000002',
        cnonce: 'c1',
      });
      expect(got, `${name} ${method}`).toBe(expected);
    }
  });

  it('gives the RFC 2617 §3.5 response (Mufasa, "Circle Of Life")', () => {
    const algorithm = DIGEST_ALGORITHMS.MD5;
    const response = computeDigestResponse({
      algorithm,
      ha1: computeHa1(algorithm, 'Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('gives the RFC 7616 §3.9.2 SHA-512-256 response for the UTF-8 username (value per Errata 4897)', () => {
    // The RFC prints ae66e67d...; Errata ID 4897 reports that the stated inputs give 3798d413...
    const algorithm = DIGEST_ALGORITHMS['SHA-512-256'];
    const response = computeDigestResponse({
      algorithm,
      ha1: computeHa1(algorithm, 'J\u00e4s\u00f8n Doe', 'api@example.org', 'Secret, or not?'),
      nonce: '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
      method: 'GET',
      uri: '/doe.json',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
    });
    expect(response).toBe('3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5');
  });

  it('maps SHA-512-256 to SHA-512/256 of FIPS 180-4, not truncated SHA-512', () => {
    // FIPS 180-4 / NIST example: SHA-512/256("abc").
    expect(createHash(DIGEST_ALGORITHMS['SHA-512-256'].hash).update('abc').digest('hex')).toBe(
      '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23',
    );
  });

  it('computes the RFC 2069 form without qop: H(HA1:nonce:HA2)', () => {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5('bob:biloxi.com:zanzibar');
    const expected = md5(`${ha1}:abc:${md5('REGISTER:sip:biloxi.com')}`);
    expect(
      computeDigestResponse({
        algorithm: DIGEST_ALGORITHMS.MD5,
        ha1,
        nonce: 'abc',
        method: 'REGISTER',
        uri: 'sip:biloxi.com',
      }),
    ).toBe(expected);
  });

  it('folds nonce and cnonce into HA1 for -sess (RFC 7616 §3.4.2)', () => {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const ha1 = sha('bob:biloxi.com:zanzibar');
    const sessHa1 = sha(`${ha1}:n1:c1`);
    const expected = sha(`${sessHa1}:n1:00000002:c1:auth:${sha('INVITE:sip:alice@atlanta.com')}`);
    expect(
      computeDigestResponse({
        algorithm: DIGEST_ALGORITHMS['SHA-256-sess'],
        ha1,
        nonce: 'n1',
        method: 'INVITE',
        uri: 'sip:alice@atlanta.com',
        qop: 'auth',
        nc: '00000002',
        cnonce: 'c1',
      }),
    ).toBe(expected);
  });

  it('covers the body with auth-int (RFC 7616 §3.4.3), so another body gives another response', () => {
    const base = {
      algorithm: DIGEST_ALGORITHMS.MD5,
      ha1: '939e7578ed9e3c518a452acee763bce9',
      nonce: 'n',
      method: 'INVITE',
      uri: 'sip:bob@biloxi.com',
      qop: 'auth-int' as const,
      nc: '00000001',
      cnonce: 'c',
    };
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n';
    const ha2 = md5(`INVITE:sip:bob@biloxi.com:${md5(body)}`);
    expect(computeDigestResponse({ ...base, body })).toBe(md5(`${base.ha1}:n:00000001:c:auth-int:${ha2}`));
    expect(computeDigestResponse({ ...base, body: Buffer.from(body) })).toBe(computeDigestResponse({ ...base, body }));
    expect(computeDigestResponse({ ...base, body: body + 'x' })).not.toBe(computeDigestResponse({ ...base, body }));
    // RFC 8760 §2.5 / RFC 3261: an empty body hashes as H("").
    expect(computeDigestResponse(base)).toBe(
      md5(`${base.ha1}:n:00000001:c:auth-int:${md5(`INVITE:sip:bob@biloxi.com:${md5('')}`)}`),
    );
  });
});

describe('parseDigestAlgorithm', () => {
  it('matches names case-insensitively and refuses unknown ones', () => {
    expect(parseDigestAlgorithm('md5-SESS')?.name).toBe('MD5-sess');
    expect(parseDigestAlgorithm('sha-512-256')?.name).toBe('SHA-512-256');
    expect(parseDigestAlgorithm('SHA-1')).toBeUndefined();
    expect(parseDigestAlgorithm('AKAv1-MD5')).toBeUndefined();
  });
});

describe('computeAuthorization', () => {
  it.each([
    ['MD5', RFC7616.md5],
    ['SHA-256', RFC7616.sha256],
  ])('answers the RFC 7616 §3.9.1 %s challenge with the RFC response', (algorithm, expected) => {
    const challenge =
      `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${algorithm}, ` +
      `nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`;
    const value = computeAuthorization(challenge, {
      username: RFC7616.username,
      password: RFC7616.password,
      method: 'GET',
      uri: RFC7616.uri,
      cnonce: RFC7616.cnonce,
      nc: 1,
    });
    const p = responseOf(value);
    expect(p.get('response')).toBe(expected);
    expect(p.get('qop')).toBe('auth');
    expect(p.get('nc')).toBe('00000001');
    expect(p.get('opaque')).toBe(RFC7616.opaque);
    expect(p.get('username')).toBe('Mufasa');
    // RFC 7616 §3.4: qop, nc and algorithm are sent as tokens, never quoted.
    expect(value).toMatch(/qop=auth(,|$)/);
    expect(value).toMatch(/nc=00000001(,|$)/);
    expect(value).toContain(`algorithm=${algorithm}`);
  });

  it('answers a challenge without qop in the RFC 2069 form (no cnonce, no nc)', () => {
    const p = responseOf(
      computeAuthorization('Digest realm="biloxi.com", nonce="abc"', {
        username: 'bob',
        password: 'zanzibar',
        method: 'REGISTER',
        uri: 'sip:biloxi.com',
      }),
    );
    expect(p.has('qop')).toBe(false);
    expect(p.has('nc')).toBe(false);
    expect(p.has('cnonce')).toBe(false);
    expect(p.get('algorithm')).toBe('MD5');
  });

  it('throws a coded DigestError for challenges it cannot answer', () => {
    const opts = { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:x' };
    expect(() => computeAuthorization('Digest realm="x', opts)).toThrow(
      expect.objectContaining({ code: 'DIGEST_MALFORMED_CHALLENGE' }),
    );
    expect(() => computeAuthorization('Digest nonce="n"', opts)).toThrow(
      expect.objectContaining({ code: 'DIGEST_MALFORMED_CHALLENGE' }),
    );
    expect(() => computeAuthorization('Basic realm="x"', opts)).toThrow(
      expect.objectContaining({ code: 'DIGEST_MALFORMED_CHALLENGE' }),
    );
    expect(() => computeAuthorization('Digest realm="x", nonce="n", algorithm=SHA-1', opts)).toThrow(
      expect.objectContaining({ code: 'DIGEST_UNSUPPORTED_ALGORITHM' }),
    );
    expect(() => computeAuthorization('Digest realm="x", nonce="n", qop="auth-conf"', opts)).toThrow(
      expect.objectContaining({ code: 'DIGEST_UNSUPPORTED_QOP' }),
    );
  });
});
