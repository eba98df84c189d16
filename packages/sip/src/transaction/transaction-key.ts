/**
 * Transaction keys: the strings the layer files transactions under, so matching is one
 * Map lookup (RFC 3261 §17.1.3, §17.2.3).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { BRANCH_MAGIC_COOKIE } from '../via.js';

const SEP = '\u0001';
const RFC2543 = '\u0002';

/**
 * The key of the client transaction a response belongs to: top Via branch + CSeq method
 * (RFC 3261 §17.1.3). Undefined when the top Via has no branch.
 */
export function responseKey(response: SipResponse): string | undefined {
  const branch = response.topVia.params.get('branch');
  if (branch === undefined || branch === null) return undefined;
  return branch + SEP + response.cseq.method;
}

/** The key a client transaction is filed under: its top Via branch + method. */
export function clientKey(branch: string, method: string): string {
  return branch + SEP + method;
}

/**
 * The key of the server transaction a request belongs to (RFC 3261 §17.2.3).
 *
 * With the magic cookie: branch + sent-by + method, where ACK counts as INVITE.
 * Without it (RFC 2543 clients): Request-URI, To tag, From tag, Call-ID, CSeq number,
 * top Via and method (ACK as INVITE). For an ACK the To tag to use is passed in,
 * since it matches the tag of the response rather than of the INVITE.
 *
 * `method` overrides the request's method (CANCEL looks up the INVITE it cancels, §9.2).
 */
export function serverKey(request: SipRequest, method: string = request.method, toTag?: string): string {
  const via = request.topVia;
  const m = method === 'ACK' ? 'INVITE' : method;
  const branch = via.params.get('branch');
  if (branch !== undefined && branch !== null && branch.startsWith(BRANCH_MAGIC_COOKIE)) {
    return branch + SEP + via.host + ':' + (via.port ?? '') + SEP + m;
  }
  const tag = toTag ?? request.to.params.get('tag') ?? '';
  return (
    RFC2543 +
    request.uri +
    SEP +
    tag +
    SEP +
    (request.from.params.get('tag') ?? '') +
    SEP +
    request.callId +
    SEP +
    request.cseq.seq +
    SEP +
    (request.getHeaders('via')[0] ?? '') +
    SEP +
    m
  );
}

/** True when the request's top Via branch carries the RFC 3261 magic cookie. */
export function hasMagicCookie(request: SipRequest): boolean {
  const branch = request.topVia.params.get('branch');
  return branch !== undefined && branch !== null && branch.startsWith(BRANCH_MAGIC_COOKIE);
}
