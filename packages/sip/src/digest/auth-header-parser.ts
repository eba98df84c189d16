/**
 * Parser for challenge and credentials header values (WWW-Authenticate, Proxy-Authenticate,
 * Authorization, Proxy-Authorization): `scheme name=value, name="quoted value", ...`.
 *
 * Grammar: RFC 3261 §25.1 (challenge / credentials, auth-param, quoted-string, quoted-pair)
 * and RFC 7616 §3.3-3.4. Values come from the network, so nothing here throws: bad input
 * yields a failure result with a reason and the offset where parsing stopped.
 */
import { Params } from '../params.js';

/** A parsed header value: the auth scheme as written and its parameters. */
export interface AuthHeader {
  /** The scheme as written (`Digest`); compare case-insensitively. */
  readonly scheme: string;
  /** Parameters by lowercased name; quoted values are unquoted and their quoted-pairs resolved. */
  readonly params: Params<string>;
}

/** Why a header value was rejected. */
export type AuthHeaderParseError =
  'empty' | 'too-long' | 'too-many-params' | 'bad-scheme' | 'syntax' | 'unterminated-quote' | 'duplicate-param';

/** The result of {@link parseAuthHeader}. */
export type ParseAuthHeaderResult =
  | { readonly ok: true; readonly header: AuthHeader }
  | { readonly ok: false; readonly error: AuthHeaderParseError; readonly offset: number };

/** Bounds on hostile input. */
export interface AuthHeaderLimits {
  /** Longest header value accepted, in UTF-16 code units (default 8192). */
  readonly maxLength?: number;
  /** Most parameters accepted (default 32). */
  readonly maxParams?: number;
}

/** Default bounds: far above any real Digest header (a long SIP URI in `uri` included). */
export const AUTH_HEADER_LIMITS = Object.freeze({ maxLength: 8192, maxParams: 32 });

// RFC 3261 §25.1 token characters, plus the RFC 9110 tchar extras ("#$&^|") that HTTP peers send.
const TOKEN = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 1;
  for (let c = 65; c <= 90; c++) t[c] = 1;
  for (let c = 97; c <= 122; c++) t[c] = 1;
  for (const ch of "-.!%*_+`'~#$&^|") t[ch.charCodeAt(0)] = 1;
  return t;
})();

const isTokenChar = (c: number): boolean => c < 128 && TOKEN[c] === 1;
// LWS outside quoted strings; CR and LF admit header values that still carry folding.
const isLws = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;

const fail = (error: AuthHeaderParseError, offset: number): ParseAuthHeaderResult => ({ ok: false, error, offset });

/** Parses one challenge or credentials value. Never throws. */
export function parseAuthHeader(value: string, limits: AuthHeaderLimits = AUTH_HEADER_LIMITS): ParseAuthHeaderResult {
  const maxLength = limits.maxLength ?? AUTH_HEADER_LIMITS.maxLength;
  const maxParams = limits.maxParams ?? AUTH_HEADER_LIMITS.maxParams;
  if (typeof value !== 'string') return fail('empty', 0);
  const n = value.length;
  if (n > maxLength) return fail('too-long', maxLength);

  let i = 0;
  while (i < n && isLws(value.charCodeAt(i))) i++;
  if (i === n) return fail('empty', i);

  const schemeStart = i;
  while (i < n && isTokenChar(value.charCodeAt(i))) i++;
  if (i === schemeStart) return fail('bad-scheme', i);
  const scheme = value.slice(schemeStart, i);
  const params = new Params<string>();
  if (i < n && !isLws(value.charCodeAt(i))) return fail('bad-scheme', i);
  while (i < n && isLws(value.charCodeAt(i))) i++;
  if (i === n) return { ok: true, header: { scheme, params } };

  for (;;) {
    // auth-param-name EQUAL ( token / quoted-string )
    const nameStart = i;
    while (i < n && isTokenChar(value.charCodeAt(i))) i++;
    if (i === nameStart) return fail('syntax', i);
    const nameEnd = i;
    while (i < n && isLws(value.charCodeAt(i))) i++;
    if (i === n || value.charCodeAt(i) !== 61 /* = */) return fail('syntax', i);
    i++;
    while (i < n && isLws(value.charCodeAt(i))) i++;
    if (i === n) return fail('syntax', i);

    let paramValue: string;
    if (value.charCodeAt(i) === 34 /* " */) {
      const open = i;
      let escaped = false;
      i++;
      for (;;) {
        if (i >= n) return fail('unterminated-quote', open);
        const c = value.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 /* \ */) {
          // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): CR and LF may not be escaped.
          if (i + 1 >= n) return fail('unterminated-quote', open);
          const next = value.charCodeAt(i + 1);
          if (next === 13 || next === 10) return fail('syntax', i + 1);
          escaped = true;
          i += 2;
          continue;
        }
        // qdtext excludes controls other than HTAB; raw CR/LF would smuggle header breaks.
        if ((c < 32 && c !== 9) || c === 127) return fail('syntax', i);
        i++;
      }
      paramValue = escaped ? unescapeQuoted(value, open + 1, i) : value.slice(open + 1, i);
      i++;
    } else {
      const valueStart = i;
      while (i < n && isTokenChar(value.charCodeAt(i))) i++;
      if (i === valueStart) return fail('syntax', i);
      paramValue = value.slice(valueStart, i);
    }

    const name = value.slice(nameStart, nameEnd).toLowerCase();
    if (params.has(name)) return fail('duplicate-param', nameStart);
    if (params.size >= maxParams) return fail('too-many-params', nameStart);
    params.set(name, paramValue);

    while (i < n && isLws(value.charCodeAt(i))) i++;
    if (i === n) return { ok: true, header: { scheme, params } };
    if (value.charCodeAt(i) !== 44 /* , */) return fail('syntax', i);
    i++;
    while (i < n && isLws(value.charCodeAt(i))) i++;
    if (i === n) return fail('syntax', i);
  }
}

function unescapeQuoted(s: string, start: number, end: number): string {
  let out = '';
  let runStart = start;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === 92) {
      out += s.slice(runStart, i) + s.charAt(i + 1);
      i++;
      runStart = i + 1;
    }
  }
  return out + s.slice(runStart, end);
}
