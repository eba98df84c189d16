/** name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39, §25.1). */
import { formatParams, isWsp, type Params, parseParams, quote, quotedEnd, unquote } from './grammar.js';
import { SipParseError } from './sip-error.js';
import { hasScheme } from './sip-uri.js';

/** A From/To/Contact/Route-style value: optional display name, URI, header parameters. */
export interface NameAddr {
  /** Display name without quotes or escapes. */
  displayName?: string | undefined;
  /** The URI as written (inside the angle brackets when present). */
  uri: string;
  /** Header parameters (`;tag=...;expires=...`), names lowercased, values as written. */
  params: Params;
}

/** Parses one name-addr or addr-spec element (already split from its list). Throws SipParseError. */
export function parseNameAddr(value: string): NameAddr {
  const s = value.trim();
  let displayName: string | undefined;
  let uri: string;
  let pos: number;
  const lt = findAngle(s);
  if (lt >= 0) {
    const before = s.slice(0, lt).trim();
    if (before.length > 0) {
      if (before.charCodeAt(0) === 34) {
        const end = quotedEnd(before, 0);
        if (end !== before.length - 1) throw new SipParseError('text after quoted display name');
        displayName = unquote(before);
      } else {
        // RFC 3261 §25.1: display-name = *(token LWS) / quoted-string
        if (!/^[A-Za-z0-9\-.!%*_+`'~ \t]+$/.test(before)) throw new SipParseError('bad display name');
        displayName = before.replace(/[ \t]+/g, ' ');
      }
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new SipParseError('unterminated <URI>');
    uri = s.slice(lt + 1, gt);
    pos = gt + 1;
  } else {
    // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10)
    let end = s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 59 || isWsp(c)) {
        end = i;
        break;
      }
      if (c === 34) throw new SipParseError('quote in addr-spec');
    }
    uri = s.slice(0, end);
    pos = end;
    // RFC 3261 §20.10: a URI with ',', '?' or ';' must be in <> (RFC 4475 §3.1.2.13 regbadct).
    if (uri.includes('?')) throw new SipParseError('URI with headers must be enclosed in <>');
  }
  if (!hasScheme(uri)) throw new SipParseError(`not a URI: ${JSON.stringify(uri.slice(0, 64))}`);
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 32 || c === 127) throw new SipParseError('whitespace in URI');
  }
  const params = parseParams(s, pos);
  return { displayName, uri, params };
}

/** Index of the `<` that opens the URI, skipping a quoted display name; -1 for addr-spec. */
function findAngle(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) i = quotedEnd(s, i);
    else if (c === 60) return i;
    else if (c === 59) return -1;
  }
  return -1;
}

/** Serializes as name-addr (always with angle brackets, which is always legal). */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined && na.displayName.length > 0 ? quote(na.displayName) + ' ' : '';
  return `${dn}<${na.uri}>${formatParams(na.params)}`;
}

/** The unquoted value of a header parameter, or undefined. */
export function paramValue(params: Params, name: string): string | undefined {
  const v = params.get(name);
  return v === undefined || v === null ? undefined : unquote(v);
}
