/**
 * Low-level pieces of the RFC 3261 §25 grammar shared by the header parsers:
 * list splitting, quoted strings, generic parameters, tokens.
 */
import { Params } from './params.js';
import { SipParseError } from './sip-error.js';

/** Ordered generic parameters (`;name=value`); names lowercased, values as written (quotes kept). */
export { Params };

const TOKEN_CHARS = (() => {
  // RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 1;
  for (let c = 65; c <= 90; c++) t[c] = 1;
  for (let c = 97; c <= 122; c++) t[c] = 1;
  for (const ch of "-.!%*_+`'~") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** True when `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

/** The index after the run of token characters that starts at `i` (`i` itself when there is none). */
export function tokenEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) break;
    i++;
  }
  return i;
}

/** The index of the first character at or after `i` that is not SP or HTAB. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/**
 * True for a lowercase host name or IPv4 address as RFC 3261 §25.1 allows it here:
 * `[a-z0-9]([a-z0-9.-]*[a-z0-9.])?`, or an IPv6 reference `[` 1*(hex / ":" / ".") `]`.
 */
export function isLowerHost(host: string): boolean {
  const n = host.length;
  if (n === 0) return false;
  if (host.charCodeAt(0) === 91 /* [ */) {
    if (n < 3 || host.charCodeAt(n - 1) !== 93 /* ] */) return false;
    for (let i = 1; i < n - 1; i++) {
      const c = host.charCodeAt(i);
      if (!((c >= 48 && c <= 58) || (c >= 97 && c <= 102) || c === 46)) return false;
    }
    return true;
  }
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 97 && c <= 122);
    if (alnum) continue;
    // '.' anywhere but first; '-' only in the middle.
    if (c === 46 && i > 0) continue;
    if (c === 45 && i > 0 && i < n - 1) continue;
    return false;
  }
  return true;
}

/** True for SP and HTAB. */
export function isWsp(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Finds the end of a quoted string that starts at `start` (the opening quote).
 * Returns the index of the closing quote; throws on an unterminated string (RFC 3261 §25.1 quoted-pair).
 */
export function quotedEnd(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 34 /* " */) return i;
  }
  throw new SipParseError('unterminated quoted string');
}

/** Removes surrounding quotes and resolves quoted-pairs; returns the input when it is not quoted. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  const inner = s.slice(1, -1);
  return inner.includes('\\') ? inner.replace(/\\(.)/gs, '$1') : inner;
}

/** Quotes a string for a quoted-string production, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/(["\\])/g, '\\$1') + '"';
}

/**
 * Splits a list header value on top-level commas (RFC 3261 §7.3.1), ignoring commas
 * inside quoted strings and `<...>`. Empty elements are rejected.
 */
export function splitList(value: string): string[] {
  if (!value.includes(',')) {
    const one = value.trim();
    return one.length === 0 ? [] : [one];
  }
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) i = quotedEnd(value, i);
    else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === 44 /* , */ && !angle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  for (const part of out) if (part.length === 0) throw new SipParseError('empty element in a list header');
  return out;
}

/**
 * Parses `;name[=value]` parameters starting at `pos` (which points at the first `;` or the end).
 * Returns the parameters; throws on a malformed name or an unterminated quoted value.
 */
export function parseParams(s: string, pos: number, into: Params = new Params()): Params {
  let i = pos;
  const n = s.length;
  while (i < n) {
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (i >= n) break;
    if (s.charCodeAt(i) !== 59 /* ; */)
      throw new SipParseError(`unexpected character in parameters: ${JSON.stringify(s.slice(i, i + 16))}`);
    i++;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 61 || c === 59 || isWsp(c)) break;
      j++;
    }
    const name = s.slice(i, j).toLowerCase();
    if (!isToken(name)) throw new SipParseError(`bad parameter name ${JSON.stringify(name)}`);
    i = j;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    let value: string | null = null;
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      i++;
      while (i < n && isWsp(s.charCodeAt(i))) i++;
      if (i < n && s.charCodeAt(i) === 34) {
        const end = quotedEnd(s, i);
        value = s.slice(i, end + 1);
        i = end + 1;
      } else {
        let k = i;
        while (k < n) {
          const c = s.charCodeAt(k);
          if (c === 59 || isWsp(c)) break;
          k++;
        }
        value = s.slice(i, k);
        i = k;
        if (value.length === 0) throw new SipParseError(`empty value for parameter ${name}`);
      }
    }
    into.set(name, value);
  }
  return into;
}

/** Serializes parameters as `;name=value...`. */
export function formatParams(params: Params): string {
  let out = '';
  params.forEach((v, k) => {
    out += v === null ? `;${k}` : `;${k}=${v}`;
  });
  return out;
}
