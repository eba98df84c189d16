/** SIP and SIPS URIs (RFC 3261 §19.1), with IPv6 references (RFC 5118) and other absolute URIs kept opaque. */
import { formatParams, isLowerHost, Params, parseParams } from './grammar.js';
import { SipParseError } from './sip-error.js';

/** A parsed URI. For schemes other than sip/sips only `scheme` and `opaque` are meaningful. */
export interface SipUri {
  /** Lowercase scheme: 'sip', 'sips', 'tel', ... */
  scheme: string;
  /** User part as written (escapes kept), e.g. `alice` or `%61lice`. */
  user?: string | undefined;
  password?: string | undefined;
  /** Host as written: a name, IPv4, or an IPv6 reference in brackets. Lowercased. */
  host: string;
  port?: number | undefined;
  /** URI parameters (`;transport=tcp;lr`), names lowercased. */
  params: Params;
  /** The `?headers` part, without the `?`, as written. */
  headers?: string | undefined;
  /** For non-SIP schemes: everything after `scheme:`. */
  opaque?: string | undefined;
}

/** Length of the `scheme` before the colon (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0 when there is none. */
function schemeLength(s: string): number {
  const first = s.charCodeAt(0) | 0x20;
  if (!(first >= 97 && first <= 122)) return 0;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) return i;
    const l = c | 0x20;
    if (!((l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return 0;
  }
  return 0;
}

/** True when the string starts with a URI scheme. */
export function hasScheme(s: string): boolean {
  return schemeLength(s) > 0;
}

/** Parses an absolute URI; SIP/SIPS URIs get their parts, others stay opaque. Throws SipParseError. */
export function parseUri(s: string): SipUri {
  const colon = schemeLength(s);
  if (colon <= 0) throw new SipParseError(`not a URI: ${JSON.stringify(s.slice(0, 64))}`);
  const rawScheme = s.slice(0, colon);
  const scheme = rawScheme === 'sip' || rawScheme === 'sips' ? rawScheme : rawScheme.toLowerCase();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) throw new SipParseError('illegal character in URI');
  }
  if (scheme !== 'sip' && scheme !== 'sips') return { scheme, host: '', params: new Params(), opaque: s.slice(colon + 1) };

  let rest = s.slice(colon + 1);
  let user: string | undefined;
  let password: string | undefined;
  // The user part may hold '?' and ';' (RFC 3261 §25.1 user-unreserved) but never an unescaped '@'.
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    if (pc >= 0) {
      user = userinfo.slice(0, pc);
      password = userinfo.slice(pc + 1);
    } else user = userinfo;
    if (user.length === 0) throw new SipParseError('empty user part in SIP URI');
    if (userinfo.includes('%') && /%(?![0-9A-Fa-f]{2})/.test(userinfo)) throw new SipParseError('bad escape in SIP URI user part');
  }
  let headers: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let hostEnd: number;
  let host: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new SipParseError('unterminated IPv6 reference');
    host = rest.slice(0, close + 1).toLowerCase();
    if (!isLowerHost(host)) throw new SipParseError('bad IPv6 reference');
    hostEnd = close + 1;
  } else {
    hostEnd = rest.length;
    for (let i = 0; i < rest.length; i++) {
      const c = rest.charCodeAt(i);
      if (c === 58 || c === 59) {
        hostEnd = i;
        break;
      }
    }
    host = rest.slice(0, hostEnd).toLowerCase();
    if (!isLowerHost(host) || host.charCodeAt(0) === 91) throw new SipParseError(`bad host in SIP URI: ${JSON.stringify(host.slice(0, 64))}`);
  }
  let port: number | undefined;
  let i = hostEnd;
  if (rest.charCodeAt(i) === 58) {
    let j = i + 1;
    while (j < rest.length && rest.charCodeAt(j) >= 48 && rest.charCodeAt(j) <= 57) j++;
    const digits = rest.slice(i + 1, j);
    port = Number(digits);
    if (digits.length === 0 || digits.length > 5 || port > 65535) throw new SipParseError('bad port in SIP URI');
    i = j;
  }
  if (i < rest.length && rest.charCodeAt(i) !== 59) throw new SipParseError('unexpected text after SIP URI host');
  const params = parseParams(rest, i);
  return { scheme, user, password, host, port, params, headers };
}

/** Serializes a URI parsed by parseUri (or built by hand). */
export function formatUri(u: SipUri): string {
  if (u.opaque !== undefined) return `${u.scheme}:${u.opaque}`;
  let out = u.scheme + ':';
  if (u.user !== undefined) out += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
  out += u.host;
  if (u.port !== undefined) out += ':' + u.port;
  out += formatParams(u.params);
  if (u.headers !== undefined) out += '?' + u.headers;
  return out;
}

/** Resolves %HH escapes in a URI user part (RFC 3261 §19.1.4 compares users after unescaping). */
export function unescapeUser(user: string): string {
  if (!user.includes('%')) return user;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** Strips the brackets of an IPv6 reference: `[::1]` -> `::1`. */
export function hostToAddress(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** Brackets an IPv6 address for use in a URI or Via: `::1` -> `[::1]`. */
export function addressToHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
