import type { SipMessage, SipRequest } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import type { SipLogger } from './sip-logger.js';
import type { TimerValues } from './timer-values.js';
import type { Timers } from './timers.js';
import type { Transaction } from './transaction.js';

/** What a transaction needs from the layer that owns it (internal to the transaction layer). */
export interface TransactionContext {
  readonly timers: Timers;
  readonly values: TimerValues;
  readonly logger: SipLogger;
  /** Hands a message to the transport layer. */
  send(message: SipMessage, target: SendTarget): Promise<Flow>;
  /** The transaction reached Terminated: forget it. */
  terminated(transaction: Transaction): void;
  /** RFC 6026 §8.7: an ACK that matched an Accepted INVITE server transaction goes to the TU. */
  passAck(ack: SipRequest, flow: Flow): void;
}
