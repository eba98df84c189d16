import type { SipMessage, SipRequest } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import type { SipLogger } from './sip-logger.js';
import type { TimerValues } from './timer-values.js';
import type { Timers } from './timers.js';
import type { RetiredTransaction } from './completed-responses.js';
import type { Transaction } from './transaction.js';

/** What a transaction needs from the layer that owns it (internal to the transaction layer). */
export interface TransactionContext {
  readonly timers: Timers;
  readonly values: TimerValues;
  readonly logger: SipLogger;
  /** Hands a message, or bytes already serialized, to the transport layer. */
  send(message: SipMessage | Buffer, target: SendTarget): Promise<Flow>;
  /** The transaction reached Terminated: forget it. */
  terminated(transaction: Transaction): void;
  /**
   * A non-INVITE server transaction over an unreliable transport sent its final response:
   * the layer answers retransmissions with `wire` (the response's bytes, as sent) until Timer J, then
   * ends `transaction`.
   * `notify`: the TU wants callbacks, so the transaction is kept and told when it ends. Returns
   * when Timer J fires, on the layer's clock (`now`).
   */
  retire(transaction: Transaction & RetiredTransaction, wire: Buffer, target: SendTarget, notify: boolean): number;
  /** Milliseconds on the layer's clock. */
  now(): number;
  /** RFC 6026 §8.7: an ACK that matched an Accepted INVITE server transaction goes to the TU. */
  passAck(ack: SipRequest, flow: Flow): void;
}
