import { describe, expect, it } from 'vitest';
import { parseAuthHeader } from './auth-header-parser.js';
import { formatAuthHeader } from './auth-header-formatter.js';

const ok = (value: string) => {
  const r = parseAuthHeader(value);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(value)} to parse, got ${r.error} at ${r.offset}`);
  return r.header;
};
const errorOf = (value: string) => {
  const r = parseAuthHeader(value);
  return r.ok ? 'parsed' : r.error;
};

describe('parseAuthHeader', () => {
  it('parses the RFC 7616 §3.9.1 challenge with quoted and token values', () => {
    const h = ok(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(h.scheme).toBe('Digest');
    expect(Object.fromEntries(h.params)).toEqual({
      realm: 'http-auth@example.org',
      qop: 'auth, auth-int',
      algorithm: 'SHA-256',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
  });

  it('lowercases parameter names and tolerates whitespace around = and , and folded lines', () => {
    const h = ok('digest  USERNAME = "bob" ,Realm="biloxi.com",\r\n  NC=00000001\t, qop = auth');
    expect(h.scheme).toBe('digest');
    expect(h.params.get('username')).toBe('bob');
    expect(h.params.get('realm')).toBe('biloxi.com');
    expect(h.params.get('nc')).toBe('00000001');
    expect(h.params.get('qop')).toBe('auth');
  });

  it('resolves quoted-pairs and keeps commas and = inside quotes', () => {
    const h = ok(String.raw`Digest username="a\"b\\c", realm="x, y=z", uri="sip:bob@biloxi.com;transport=tcp"`);
    expect(h.params.get('username')).toBe('a"b\\c');
    expect(h.params.get('realm')).toBe('x, y=z');
    expect(h.params.get('uri')).toBe('sip:bob@biloxi.com;transport=tcp');
  });

  it('keeps UTF-8 text in quoted strings and accepts an empty quoted string', () => {
    const h = ok('Digest username="Jäsøn Doe", opaque=""');
    expect(h.params.get('username')).toBe('Jäsøn Doe');
    expect(h.params.get('opaque')).toBe('');
  });

  it('accepts a scheme with no parameters', () => {
    expect(ok('Digest').params.size).toBe(0);
  });

  it('round-trips through formatAuthHeader, escaping quotes and backslashes', () => {
    const value = formatAuthHeader('Digest', [
      ['realm', 'we "quote" \\ things'],
      ['nonce', 'abc'],
      ['algorithm', 'SHA-256'],
      ['qop', 'auth,auth-int', 'quoted'],
      ['stale', 'true'],
    ]);
    expect(value).toBe(
      String.raw`Digest realm="we \"quote\" \\ things", nonce="abc", algorithm=SHA-256, qop="auth,auth-int", stale=true`,
    );
    expect(Object.fromEntries(ok(value).params)).toEqual({
      realm: 'we "quote" \\ things',
      nonce: 'abc',
      algorithm: 'SHA-256',
      qop: 'auth,auth-int',
      stale: 'true',
    });
  });

  it('rejects an unterminated quoted string', () => {
    expect(errorOf('Digest realm="x", username="bob, nonce=1')).toBe('unterminated-quote');
    expect(errorOf('Digest username="bob\\')).toBe('unterminated-quote');
  });

  it('rejects a duplicate parameter, whatever its case', () => {
    expect(errorOf('Digest realm="a", nonce="n", REALM="b"')).toBe('duplicate-param');
  });

  it('rejects a 100 KB value without scanning it', () => {
    const huge = 'Digest username="' + 'a'.repeat(100 * 1024) + '"';
    const started = process.hrtime.bigint();
    expect(errorOf(huge)).toBe('too-long');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  });

  it('rejects more parameters than the limit', () => {
    const many = 'Digest ' + Array.from({ length: 33 }, (_, i) => `p${i}=x`).join(', ');
    expect(errorOf(many)).toBe('too-many-params');
    expect(parseAuthHeader(many, { maxParams: 40 }).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['whitespace only', '   '],
  ])('reports %s as empty', (_name, value) => {
    expect(errorOf(value)).toBe('empty');
  });

  it.each([
    ['a missing =', 'Digest realm'],
    ['a missing value', 'Digest realm='],
    ['a trailing comma', 'Digest realm="x",'],
    ['an empty list element', 'Digest realm="x", , nonce="y"'],
    ['a missing comma', 'Digest realm="x" nonce="y"'],
    ['a bare CR inside quotes', 'Digest realm="x\ry"'],
    ['a NUL inside quotes', 'Digest realm="x\u0000y"'],
    ['an escaped LF', 'Digest realm="x\\\ny"'],
    ['a non-token unquoted value', 'Digest uri=sip:bob@biloxi.com'],
    ['a non-token name', 'Digest re@lm="x"'],
    ['an unquoted value containing a quote', 'Digest realm=x"y"'],
  ])('rejects %s as a syntax error', (_name, value) => {
    expect(errorOf(value)).toBe('syntax');
  });

  it('rejects a value that does not start with a scheme token', () => {
    expect(errorOf('"Digest" realm="x"')).toBe('bad-scheme');
    expect(errorOf('Digest,realm="x"')).toBe('bad-scheme');
  });

  it('never throws on random bytes', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const alphabet = 'Digest realm=",\\ \t\r\nabc=';
    for (let round = 0; round < 5000; round++) {
      let s = '';
      const len = next() % 60;
      for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
      expect(() => parseAuthHeader(s)).not.toThrow();
    }
  });
});

describe('formatAuthHeader', () => {
  it('refuses values that would break the header line', () => {
    expect(() => formatAuthHeader('Digest', [['realm', 'a\r\nVia: evil']])).toThrow(
      expect.objectContaining({ code: 'DIGEST_INVALID_VALUE' }),
    );
  });

  it('quotes a token-form value that is not a token', () => {
    expect(formatAuthHeader('Digest', [['algorithm', 'not a token']])).toBe('Digest algorithm="not a token"');
  });
});
