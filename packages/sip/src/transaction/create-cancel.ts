import { type Header, SipRequest } from '../message.js';

/**
 * Builds the CANCEL for a pending request (RFC 3261 §9.1): same Request-URI, Call-ID,
 * To, From and CSeq number, CSeq method CANCEL, the request's top Via alone (so it
 * matches the server transaction, §9.2), and the request's Route headers.
 * Send it with the target of the request's client transaction.
 */
export function createCancel(request: SipRequest): SipRequest {
  const headers: Header[] = [];
  // RFC 3261 §9.1: "A CANCEL constructed by a client MUST have only a single Via header field value matching the top Via value in the request being cancelled."
  const topVia = request.getHeaders('via')[0];
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  for (const h of request.headers) {
    if (h.key === 'from' || h.key === 'to' || h.key === 'call-id') headers.push({ ...h });
    // RFC 3261 §9.1: "If the request being cancelled contains a Route header field, the CANCEL request MUST include that Route header field's values."
    else if (h.key === 'route') headers.push({ ...h });
  }
  headers.push({ name: 'CSeq', key: 'cseq', value: `${request.cseq.seq} CANCEL` });
  return new SipRequest('CANCEL', request.uri, headers);
}
