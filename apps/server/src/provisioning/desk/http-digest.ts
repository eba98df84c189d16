/**
 * HTTP Digest access authentication for phones fetching their files (RFC 7616, with the MD5
 * algorithm and `qop=auth` every desk phone implements), and Basic (RFC 7617) where the caller
 * allows it (over HTTPS only). Nonces are stateless: a timestamp sealed with a server key, so any
 * node checks any nonce and nothing is stored per phone.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a nonce is accepted; an older one gets a new challenge with `stale=true`. */
export const NONCE_TTL_MS = 5 * 60_000;
/** Longest Authorization header looked at. */
const MAX_AUTHORIZATION = 2048;

/** Result of {@link HttpDigest.check}. */
export type AuthResult = 'ok' | 'missing' | 'wrong' | 'stale';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** Digest challenges and checks, keyed by `key` (32 bytes; e.g. derived from the server key). */
export class HttpDigest {
  readonly #key: Buffer;

  constructor(
    key: Uint8Array = randomBytes(32),
    private readonly clock: () => number = Date.now,
  ) {
    this.#key = Buffer.from(key);
  }

  /** `WWW-Authenticate` values for a 401: Digest, and Basic when `basic` (HTTPS). */
  challenge(realm: string, opts: { stale?: boolean; basic?: boolean } = {}): string[] {
    const digest = `Digest realm="${quote(realm)}", qop="auth", algorithm=MD5, nonce="${this.#nonce()}"${opts.stale ? ', stale=true' : ''}`;
    return opts.basic ? [digest, `Basic realm="${quote(realm)}", charset="UTF-8"`] : [digest];
  }

  /**
   * Checks an Authorization header against the expected credentials for `method` and the request
   * target `uri` (as sent on the request line). Basic counts only when `basic` is allowed.
   */
  check(
    header: string | undefined,
    expected: { username: string; password: string; realm: string },
    request: { method: string; uri: string; basic: boolean },
  ): AuthResult {
    if (header === undefined || header.length === 0) return 'missing';
    if (header.length > MAX_AUTHORIZATION) return 'wrong';
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const rest = space < 0 ? '' : header.slice(space + 1);
    if (scheme === 'basic') {
      if (!request.basic) return 'missing';
      const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'wrong';
      return same(decoded.slice(0, colon), expected.username) && same(decoded.slice(colon + 1), expected.password)
        ? 'ok'
        : 'wrong';
    }
    if (scheme !== 'digest') return 'missing';
    const p = parseParams(rest);
    if (!p) return 'wrong';
    const { username, realm, nonce, uri, response } = p;
    if (!username || !realm || !nonce || !uri || !response) return 'wrong';
    if (!same(username, expected.username) || realm !== expected.realm) return 'wrong';
    // RFC 7616 §3.4.6: the digest-uri must name the resource requested.
    if (uri !== request.uri) return 'wrong';
    const algorithm = (p.algorithm ?? 'MD5').toUpperCase();
    if (algorithm !== 'MD5') return 'wrong';
    const ha1 = md5(`${expected.username}:${realm}:${expected.password}`);
    const ha2 = md5(`${request.method}:${uri}`);
    let want: string;
    if (p.qop === undefined) want = md5(`${ha1}:${nonce}:${ha2}`);
    else if (p.qop === 'auth' && p.nc && p.cnonce) want = md5(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    else return 'wrong';
    if (!same(response.toLowerCase(), want)) return 'wrong';
    const age = this.#nonceAge(nonce);
    if (age === undefined) return 'wrong';
    return age > NONCE_TTL_MS ? 'stale' : 'ok';
  }

  #nonce(): string {
    const ts = this.clock().toString(36);
    return `${ts}.${this.#mac(ts)}`;
  }

  /** Milliseconds since the nonce was issued, or undefined when it is not ours. */
  #nonceAge(nonce: string): number | undefined {
    const dot = nonce.indexOf('.');
    if (dot < 1 || dot > 12) return undefined;
    const ts = nonce.slice(0, dot);
    if (!same(nonce.slice(dot + 1), this.#mac(ts))) return undefined;
    const issued = parseInt(ts, 36);
    const age = this.clock() - issued;
    return Number.isFinite(age) && age >= -60_000 ? Math.max(0, age) : undefined;
  }

  #mac(s: string): string {
    return createHmac('sha256', this.#key).update(s).digest('base64url').slice(0, 22);
  }
}

/** `a="b", c=d` -> {a: 'b', c: 'd'}; undefined when malformed. */
function parseParams(s: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    if (re.lastIndex === i) return undefined;
    i = re.lastIndex;
  }
  return out;
}

function quote(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

/** Constant-time string comparison (the lengths may differ). */
function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
