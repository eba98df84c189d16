import { type Header, SipRequest, type SipResponse } from '../message.js';

/**
 * Builds the hop-by-hop ACK for a non-2xx final response to an INVITE
 * (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From and CSeq number as the
 * INVITE, the To of the response (with its tag), the INVITE's top Via alone, and
 * the INVITE's Route headers.
 */
export function createAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: Header[] = [];
  // RFC 3261 §17.1.1.3: "The ACK MUST contain a single Via header field, and this MUST be equal to the top Via header field of the original request."
  const topVia = invite.getHeaders('via')[0];
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  for (const h of invite.headers) {
    if (h.key === 'from' || h.key === 'call-id') headers.push({ ...h });
    // RFC 3261 §17.1.1.3: Route header fields of the INVITE MUST appear in the ACK.
    else if (h.key === 'route') headers.push({ ...h });
  }
  // RFC 3261 §17.1.1.3: the To header field of the ACK MUST equal the To header field in the response being acknowledged.
  const to = response.getHeader('to');
  if (to !== undefined) headers.push({ name: 'To', key: 'to', value: to });
  headers.push({ name: 'CSeq', key: 'cseq', value: `${invite.cseq.seq} ACK` });
  return new SipRequest('ACK', invite.uri, headers);
}
