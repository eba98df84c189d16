import type { SipRequest } from '../message.js';
import type { Endpoint } from '../transport.js';
import { formatVia, type Via } from '../via.js';

/** A Via host without the brackets of an IPv6 reference, lowercased. */
function bareHost(host: string): string {
  return (host.charCodeAt(0) === 91 ? host.slice(1, -1) : host).toLowerCase();
}

/**
 * The top Via as the server transport must record it (RFC 3261 §18.2.1, RFC 3581 §4),
 * or undefined when it needs no change.
 */
export function stampVia(via: Via, source: Endpoint): Via | undefined {
  const params = via.params;
  // RFC 3581 §4: an rport without a value MUST be set to the source port, and received MUST then be added even when the address matches.
  if (params.has('rport') && params.get('rport') === null) {
    const stamped = params.clone();
    stamped.set('received', source.address);
    stamped.set('rport', String(source.port));
    return { ...via, params: stamped };
  }
  // RFC 3261 §18.2.1: when sent-by is a domain name or an IP address other than the packet's source, the server MUST add received.
  if (bareHost(via.host) !== source.address.toLowerCase() && params.get('received') !== source.address) {
    const stamped = params.clone();
    stamped.set('received', source.address);
    return { ...via, params: stamped };
  }
  return undefined;
}

/** Adds `received` and fills an empty `rport` in the request's top Via from the packet's source (§18.2.1, RFC 3581 §4). */
export function stampReceived(request: SipRequest, source: Endpoint): void {
  const stamped = stampVia(request.topVia, source);
  if (stamped === undefined) return;
  request.replaceTopVia(formatVia(stamped), stamped);
}
