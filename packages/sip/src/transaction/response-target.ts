import type { Flow, SendTarget } from '../transport.js';
import type { Via } from '../via.js';

/** A Via host without the brackets of an IPv6 reference. */
function bareHost(host: string): string {
  return host.charCodeAt(0) === 91 ? host.slice(1, -1) : host;
}

/**
 * Where a response to a request that arrived on `flow` goes (RFC 3261 §18.2.2 with
 * RFC 3581 §4), given the request's top Via after the received/rport stamping.
 *
 * - Stream transports (TCP, TLS, WS, WSS): back over the same connection, always.
 *   The target names the flow; the endpoint refuses to open a new connection for it.
 * - UDP: to `received` (or the sent-by host) and the `rport` value (or the sent-by
 *   port, default 5060). The flow is named only when that is exactly its remote
 *   address, so that the response leaves from the socket the request arrived on.
 *
 * `maddr` (multicast) is not supported: responses go to the unicast source.
 */
export function responseTarget(via: Via, flow: Flow): SendTarget {
  if (flow.reliable) {
    // RFC 3261 §18.2.2: "If the 'sent-protocol' is a reliable transport protocol ... the response MUST be sent using the existing connection to the source of the original request".
    return { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, flowId: flow.id };
  }
  const received = via.params.get('received');
  const address =
    received !== undefined && received !== null && received.length > 0 ? bareHost(received) : bareHost(via.host);
  const rport = via.params.get('rport');
  let port = via.port ?? 5060;
  if (rport !== undefined && rport !== null) {
    // RFC 3581 §4: "the response MUST be sent to the IP address ... in the received parameter, and the port in the rport parameter".
    const n = Number(rport);
    if (Number.isInteger(n) && n > 0 && n <= 65535) port = n;
  }
  const onFlow = port === flow.remote.port && address.toLowerCase() === flow.remote.address.toLowerCase();
  return { protocol: flow.protocol, address, port, flowId: onFlow ? flow.id : undefined };
}
