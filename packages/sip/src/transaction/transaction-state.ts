/**
 * States of the four transaction state machines (RFC 3261 §17 as updated by RFC 6026 §8).
 * Each machine uses a subset; its class documents which, with a diagram.
 */
export enum TransactionState {
  /** Client INVITE: request sent, no response yet. */
  Calling = 'calling',
  /** Client and server non-INVITE: request sent / received, no response yet. */
  Trying = 'trying',
  /** A provisional response was received (client) or sent (server). */
  Proceeding = 'proceeding',
  /** A final response (non-2xx for INVITE) was received or sent; absorbing retransmissions. */
  Completed = 'completed',
  /** Server INVITE: the ACK for a non-2xx final response arrived. */
  Confirmed = 'confirmed',
  /** INVITE only, RFC 6026: a 2xx was received or sent; 2xx retransmissions and ACKs pass through. */
  Accepted = 'accepted',
  /** Finished; the layer has forgotten the transaction. */
  Terminated = 'terminated',
}
