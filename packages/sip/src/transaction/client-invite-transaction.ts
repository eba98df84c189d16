import type { SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { ClientTransaction, type ClientTransactionHandler } from './client-transaction.js';
import { createAck } from './create-ack.js';
import type { TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionState } from './transaction-state.js';

const { Calling, Proceeding, Completed, Accepted, Terminated } = TransactionState;

const TRANSITIONS: TransitionTable = {
  [Calling]: [Proceeding, Completed, Accepted, Terminated],
  [Proceeding]: [Completed, Accepted, Terminated],
  [Completed]: [Terminated],
  [Accepted]: [Terminated],
};

/**
 * The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4).
 *
 * ```
 *            start: send INVITE, Timer A (UDP), Timer B
 *                          |
 *   Timer A: resend  +-> Calling --Timer B / transport error--> Terminated (TU told)
 *                          |  \ 1xx: to TU
 *                          |   v
 *                          |  Proceeding  (1xx: to TU)
 *          2xx: to TU      |  /      \  300-699: send ACK, to TU
 *           +--------------+-+        +----------------+
 *           v                                          v
 *       Accepted (2xx: to TU)                   Completed (300-699: resend ACK)
 *           | Timer M                                  | Timer D (0 if reliable)
 *           +-------------------> Terminated <---------+
 * ```
 */
export class ClientInviteTransaction extends ClientTransaction {
  private timerA: unknown;
  private intervalA: number;
  private timerB: unknown;
  private timerD: unknown;
  private timerM: unknown;
  private ack: SipRequest | undefined;

  /** @internal Created by TransactionLayer.sendRequest. */
  constructor(
    context: TransactionContext,
    key: string,
    request: SipRequest,
    target: SendTarget,
    handler: ClientTransactionHandler,
  ) {
    super(context, key, request, target, handler, Calling, TRANSITIONS);
    this.intervalA = context.values.TIMER_A;
  }

  /** The ACK this transaction sent for a non-2xx final response, if any. */
  get ackRequest(): SipRequest | undefined {
    return this.ack;
  }

  start(): void {
    this.transmit(this.request);
    // RFC 3261 §17.1.1.2: "If an unreliable transport is being used, the client transaction MUST start timer A with a value of T1."
    if (!this.reliable) this.timerA = this.startTimer(this.intervalA, this.fireA);
    // RFC 3261 §17.1.1.2: "For any transport, the client transaction MUST start timer B with a value of 64*T1 seconds."
    this.timerB = this.startTimer(this.context.values.TIMER_B, this.fireB);
  }

  receiveResponse(response: SipResponse, _flow: Flow): void {
    const status = response.status;
    switch (this.state) {
      case Calling:
      case Proceeding:
        if (status < 200) {
          // RFC 3261 §17.1.1.2: a provisional response moves Calling to Proceeding; no more retransmissions.
          if (this.state === Calling) {
            this.stopCallingTimers();
            this.transition(Proceeding);
          }
          this.pass(response);
        } else if (status < 300) {
          // RFC 6026 §8.4: a 2xx moves Calling/Proceeding to Accepted and MUST be passed up; Timer M starts.
          this.stopCallingTimers();
          this.transition(Accepted);
          this.timerM = this.startTimer(this.context.values.TIMER_M, this.fireM);
          this.pass(response);
          // Timer M (32 s) is all that is left: keep the request small meanwhile.
          this.request.compact();
        } else {
          // RFC 3261 §17.1.1.2: a 300-699 response MUST be passed up, an ACK generated, and Completed entered.
          this.stopCallingTimers();
          this.transition(Completed);
          this.ack = createAck(this.request, response);
          this.transmit(this.ack);
          this.pass(response);
          if (this.terminated) return;
          // RFC 3261 §17.1.1.2: Timer D is at least 32 s for unreliable transports and zero for reliable ones.
          if (this.reliable) this.transition(Terminated);
          else {
            this.timerD = this.startTimer(this.context.values.TIMER_D, this.fireD);
            // Timer D (32 s) only absorbs retransmitted finals: keep the messages small meanwhile.
            this.request.compact();
            this.ack.compact();
          }
        }
        return;
      case Completed:
        // RFC 3261 §17.1.1.2: retransmissions of the final response MUST cause the ACK to be re-passed to the transport and MUST NOT go up.
        if (status >= 300 && this.ack !== undefined) this.transmit(this.ack);
        return;
      case Accepted:
        // RFC 6026 §8.4: any 2xx received in Accepted MUST be passed up (retransmissions and forked 2xx); others are discarded.
        if (status >= 200 && status < 300) this.pass(response);
        return;
      default:
        return;
    }
  }

  protected transportFailed(error: Error): void {
    // RFC 3261 §17.1.1.2 (Figure 5): a transport error in Calling informs the TU; after a final response nothing more is owed.
    if (this.state === Calling || this.state === Proceeding) {
      this.safely('onTransportError', () => this.handler.onTransportError(this, error));
      if (!this.terminated) this.transition(Terminated);
    } else if (this.state === Completed) {
      this.transition(Terminated);
    }
  }

  protected clearTimers(): void {
    this.stopCallingTimers();
    this.timerD = this.stopTimer(this.timerD);
    this.timerM = this.stopTimer(this.timerM);
  }

  private stopCallingTimers(): void {
    this.timerA = this.stopTimer(this.timerA);
    this.timerB = this.stopTimer(this.timerB);
  }

  private pass(response: SipResponse): void {
    this.safely('onResponse', () => this.handler.onResponse(response, this));
  }

  private readonly fireA = (): void => {
    this.timerA = undefined;
    if (this.state !== Calling) return;
    // RFC 3261 §17.1.1.2: when timer A fires the client transaction MUST retransmit and reset the timer to 2*its value.
    this.transmit(this.request);
    this.intervalA *= 2;
    this.timerA = this.startTimer(this.intervalA, this.fireA);
  };

  private readonly fireB = (): void => {
    this.timerB = undefined;
    if (this.state !== Calling) return;
    this.markTimedOut();
    // RFC 3261 §17.1.1.2: Timer B in Calling: inform the TU of the timeout; the transaction MUST NOT generate an ACK.
    this.safely('onTimeout', () => this.handler.onTimeout(this));
    if (!this.terminated) this.transition(Terminated);
  };

  private readonly fireD = (): void => {
    this.timerD = undefined;
    if (this.state === Completed) this.transition(Terminated);
  };

  private readonly fireM = (): void => {
    this.timerM = undefined;
    if (this.state === Accepted) this.transition(Terminated);
  };
}
