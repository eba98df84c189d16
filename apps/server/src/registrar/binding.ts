/** A registration binding: one contact of an address-of-record (RFC 3261 §10.2, RFC 5626 §6). */
import type { TransportProtocol } from '@handset/sip';

/** One contact bound to an AOR, with how to reach it. */
export interface Binding {
  /** `user@domain`. */
  aor: string;
  domain: string;
  /** Identity of the binding: `+sip.instance#reg-id` when present (RFC 5626), else the contact URI. */
  key: string;
  instanceId?: string | undefined;
  regId?: number | undefined;
  contactUri: string;
  /** Path header values (RFC 3327), in order. */
  path: string[];
  callId: string;
  cseq: number;
  /**
   * Top Via branch of the REGISTER that last wrote the binding (RFC 3261 branch ids only), so its
   * retransmissions are recognised without a transaction kept (see Registrar). Not stored: after a
   * restart it is unknown, and a late retransmission is then refused as out of order.
   */
  branch?: string | undefined;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** The connection the REGISTER came over, for stream transports. */
  flowId?: string | undefined;
  transport: TransportProtocol;
  sourceAddress: string;
  sourcePort: number;
  userAgent?: string | undefined;
  q?: number | undefined;
  receivedAt: number;
  /** Cluster only: the node (HANDSET_NODE_ID) that holds the flow the REGISTER came over. */
  node?: string | undefined;
  /** Cluster only: that node's run (its flows die with it). */
  run?: string | undefined;
  /** Cluster only: the shared record's revision (orders copies of one binding). */
  rev?: number | undefined;
}
