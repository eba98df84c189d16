/** The Via header (RFC 3261 §20.42, §18.2.1, RFC 3581 rport). */
import { formatParams, isWsp, type Params, parseParams } from './grammar.js';
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

/** Parses one Via element (already split from its list). */
export function parseVia(value: string): Via {
  const s = value.trim();
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around slashes
  const m = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+/.exec(s);
  if (m === null) throw new SipParseError('bad Via sent-protocol');
  const protocol = `${m[1]!.toUpperCase()}/${m[2]!}`;
  const transport = m[3]!.toUpperCase();
  let i = m[0].length;
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
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9.])?)$/.test(host)) throw new SipParseError('bad Via sent-by host');
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    i++;
    while (i < s.length && isWsp(s.charCodeAt(i))) i++;
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
