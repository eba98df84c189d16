import type { SipRequest, SipResponse } from '../message.js';
import type { Flow } from '../transport.js';
import type { ServerTransaction } from './server-transaction.js';

/** The transaction user (RFC 3261 §5: UA core, proxy core, registrar) the layer reports to. */
export interface TransactionUser {
  /** A new request created a server transaction; answer with `transaction.respond(...)`. */
  onRequest(transaction: ServerTransaction): void;
  /**
   * An ACK that belongs to no transaction the layer must absorb: the ACK for a 2xx
   * (a transaction of its own, RFC 3261 §17.1.1.3), including one that matched an
   * Accepted INVITE server transaction (RFC 6026 §8.7).
   */
  onAck(ack: SipRequest, flow: Flow): void;
  /** A response that matched no client transaction (RFC 3261 §17.1.3): a proxy forwards it statelessly (§16.7). */
  onStrayResponse(response: SipResponse, flow: Flow): void;
}
