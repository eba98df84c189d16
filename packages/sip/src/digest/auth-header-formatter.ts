/**
 * Serializer for challenge and credentials header values, the inverse of parseAuthHeader.
 * RFC 7616 §3.4: "a sender MUST NOT generate the quoted string syntax" for algorithm, qop
 * (in credentials) and nc; RFC 3261 §25.1 likewise writes stale as a bare token.
 */
import { DigestError } from './digest-error.js';

/** One parameter: name, value, and optionally how to write the value (default by name, see below). */
export type AuthParam = readonly [name: string, value: string, form?: 'token' | 'quoted'];

const TOKEN_BY_DEFAULT: ReadonlySet<string> = new Set(['algorithm', 'nc', 'stale']);
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
// Values may carry any text but never a line break or NUL (header injection).
const FORBIDDEN_RE = /[\r\n\0]/;
const ESCAPE_RE = /["\\]/g;

/**
 * Formats `scheme name=value, ...`. `algorithm`, `nc` and `stale` are written as tokens,
 * everything else quoted, unless the param says otherwise; a value that is not a valid token
 * is always quoted. Throws DigestError (DIGEST_INVALID_VALUE) for a bad name or a value with
 * CR, LF or NUL: the values come from our own configuration or from a parsed header, never raw input.
 */
export function formatAuthHeader(scheme: string, params: Iterable<AuthParam>): string {
  if (!TOKEN_RE.test(scheme)) throw new DigestError('DIGEST_INVALID_VALUE', 'auth scheme is not a token');
  let out = scheme;
  let first = true;
  for (const [name, value, form] of params) {
    if (!TOKEN_RE.test(name)) throw new DigestError('DIGEST_INVALID_VALUE', `auth-param name is not a token`);
    if (FORBIDDEN_RE.test(value)) {
      throw new DigestError('DIGEST_INVALID_VALUE', `auth-param ${name} contains CR, LF or NUL`);
    }
    const asToken = (form ?? (TOKEN_BY_DEFAULT.has(name.toLowerCase()) ? 'token' : 'quoted')) === 'token';
    out += first ? ' ' : ', ';
    first = false;
    out +=
      asToken && TOKEN_RE.test(value) ? `${name}=${value}` : `${name}="${value.replace(ESCAPE_RE, '\\$&')}"`;
  }
  return out;
}
