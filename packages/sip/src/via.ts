/** The Via header (RFC 3261 §20.42, §18.2.1, RFC 3581 rport). */
import { formatParams, isLowerHost, isWsp, type Params, parseParams, skipWsp, tokenEnd } from './grammar.js';
import { SipParseError } from './sip-error.js';

/** One Via element. */
export interface Via {
  /** e.g. `SIP/2.0` */
  protocol: string;
  /** Uppercase transport: UDP, TCP, TLS, WS, WSS, SCTP ... */
  transport: string;
  /** sent-by host as written (IPv6 in brackets), lowercased. */
  host: string;
  port?: number | undefined;
  params: Params;
}

/** The RFC 3261 magic cookie that marks branch ids unique per transaction (§8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

const badProtocol = (): never => {
  throw new SipParseError('bad Via sent-protocol');
};

/** Upper-cases a token, reusing the usual spellings (no new string for `UDP`, `SIP`, ...). */
function upper(s: string): string {
  switch (s) {
    case 'UDP':
    case 'TCP':
    case 'TLS':
    case 'WS':
    case 'WSS':
    case 'SCTP':
    case 'SIP':
      return s;
    default:
      return s.toUpperCase();
  }
}

/** Parses one Via element (already split from its list). */
export function parseVia(value: string): Via {
  const s = value.trim();
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around slashes, then LWS
  const nameEnd = tokenEnd(s, 0);
  if (nameEnd === 0) badProtocol();
  let i = skipWsp(s, nameEnd);
  if (s.charCodeAt(i) !== 47) badProtocol();
  const versionStart = skipWsp(s, i + 1);
  const versionEnd = tokenEnd(s, versionStart);
  if (versionEnd === versionStart) badProtocol();
  i = skipWsp(s, versionEnd);
  if (s.charCodeAt(i) !== 47) badProtocol();
  const transportStart = skipWsp(s, i + 1);
  const transportEnd = tokenEnd(s, transportStart);
  if (transportEnd === transportStart || !isWsp(s.charCodeAt(transportEnd))) badProtocol();
  const name = upper(s.slice(0, nameEnd));
  const version = s.slice(versionStart, versionEnd);
  const protocol = name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name}/${version}`;
  const transport = upper(s.slice(transportStart, transportEnd));
  i = skipWsp(s, transportEnd);
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0) throw new SipParseError('bad IPv6 reference in Via');
    host = s.slice(i, close + 1).toLowerCase();
    i = close + 1;
  } else {
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 58 || c === 59 || isWsp(c)) break;
      j++;
    }
    host = s.slice(i, j).toLowerCase();
    i = j;
  }
  if (!isLowerHost(host)) throw new SipParseError('bad Via sent-by host');
  i = skipWsp(s, i);
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    i = skipWsp(s, i + 1);
    let j = i;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const digits = s.slice(i, j);
    port = Number(digits);
    if (digits.length === 0 || digits.length > 5 || port > 65535) throw new SipParseError('bad Via port');
    i = j;
  }
  const params = parseParams(s, i);
  return { protocol, transport, host, port, params };
}

/** Serializes one Via element. */
export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${v.host}${v.port !== undefined ? ':' + v.port : ''}${formatParams(v.params)}`;
}

/** The branch parameter of a Via, or undefined. */
export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}
