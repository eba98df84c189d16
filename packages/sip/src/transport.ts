/**
 * The Transport contract between the protocol core and the Node socket layer
 * (packages/sip-node). The core never touches sockets: it hands bytes to a
 * Transport and receives bytes with the Flow they arrived on.
 */

/** Transport protocols as they appear in a Via sent-protocol (RFC 3261 §18, RFC 7118 §5). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** An IP address (v4 or v6, without brackets) and port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * A flow: one path messages arrive on and the way back to the same peer
 * (RFC 5626 §3.3). For UDP it is the (local, remote) address pair; for
 * TCP/TLS/WS/WSS it is one connection.
 */
export interface Flow {
  /** Unique while the flow lives, e.g. `tcp:17` or `udp:127.0.0.1:5060>127.0.0.1:40000`. */
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** True for stream transports (no retransmission, RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
}

/** Where to send: an existing flow when known (always preferred), else an endpoint. */
export interface SendTarget {
  readonly protocol: TransportProtocol;
  readonly address: string;
  readonly port: number;
  /** Send over this flow if it is still open (RFC 5626 §5.3, RFC 7118 §5). */
  readonly flowId?: string | undefined;
}

/** How a Transport reports upward (SIP.js style delegate: one object, no emitter cost). */
export interface TransportDelegate {
  /** One complete framed SIP message (or its raw bytes, not yet parsed). */
  onMessage(data: Buffer, flow: Flow): void;
  /** A connection-oriented flow has closed; bindings over it are no longer reachable. */
  onFlowClosed?(flow: Flow): void;
  /**
   * Bytes of a request the transport could not frame (a stream message without a usable
   * Content-Length), handed up so that a 400 can be answered on the flow before it closes.
   */
  onUnframed?(data: Buffer, reason: string, flow: Flow): void;
}

/** A listening transport of one protocol. */
export interface Transport {
  readonly protocol: TransportProtocol;
  /** The address this transport listens on (after binding, so port 0 resolves). */
  readonly local: Endpoint;
  /**
   * Sends one serialized message. Uses `target.flowId` when that flow is open;
   * otherwise sends to the address (UDP) or opens a connection (TCP/TLS).
   * WS/WSS cannot open connections: with no open flow, rejects with TransportError.
   */
  send(data: Buffer, target: SendTarget): Promise<Flow>;
  /**
   * Marks a flow as carrying a registration (or not), which exempts it from
   * the idle timeout for unregistered connections.
   */
  setFlowRegistered(flowId: string, registered: boolean): void;
  /** Looks up a live flow by id. */
  getFlow(flowId: string): Flow | undefined;
  /** Stops listening and closes every flow; idempotent. */
  close(): Promise<void>;
}

/** A send that cannot be carried out (connection refused, flow gone, ...). */
export class TransportError extends Error {
  readonly code = 'TRANSPORT_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
  }
}
