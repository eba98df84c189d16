import { createResponse } from '../create-response.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { ServerTransaction } from './server-transaction.js';
import type { TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionError } from './transaction-error.js';
import { TransactionState } from './transaction-state.js';

const { Proceeding, Completed, Confirmed, Accepted, Terminated } = TransactionState;

const TRANSITIONS: TransitionTable = {
  [Proceeding]: [Completed, Accepted, Terminated],
  [Completed]: [Confirmed, Terminated],
  [Confirmed]: [Terminated],
  [Accepted]: [Terminated],
};

/**
 * The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §8.5-8.7).
 *
 * ```
 *            INVITE arrives: Proceeding (100 Trying after 200 ms unless the TU answered)
 *                        |
 *  INVITE: resend 1xx +> Proceeding --transport error--> Terminated (TU told)
 *  1xx from TU: send     |        \
 *       2xx from TU: send |         \ 300-699 from TU: send, Timer G (UDP), Timer H
 *                        v          v
 *  2xx from TU: send  Accepted    Completed  (INVITE: resend final; Timer G: resend, G = min(2G, T2))
 *  ACK: to TU            |           | ACK                 \ Timer H: TU told (timeout)
 *  INVITE: absorbed      |           v                      \
 *                        |        Confirmed (ACK absorbed)   |
 *                        | Timer L   | Timer I (0 if reliable)
 *                        +--------> Terminated <-------------+
 * ```
 */
export class ServerInviteTransaction extends ServerTransaction {
  private timerTrying: unknown;
  private timerG: unknown;
  private intervalG: number;
  private timerH: unknown;
  private timerI: unknown;
  private timerL: unknown;

  /** @internal Created by the TransactionLayer when an INVITE arrives. */
  constructor(context: TransactionContext, key: string, request: SipRequest, flow: Flow, target: SendTarget) {
    super(context, key, request, flow, target, Proceeding, TRANSITIONS);
    this.intervalG = context.values.TIMER_G;
    // RFC 3261 §17.2.1: "If there's any chance that a TU will not generate a provisional response within 200 ms,
    // then it MUST generate a 100 (Trying) response." The transaction does it for any TU that is slower.
    this.timerTrying = this.startTimer(context.values.TIMER_TRYING, this.fireTrying);
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (this.state === Accepted) {
      // RFC 6026 §8.7: 2xx retransmissions from the TU in Accepted MUST be passed to the transport.
      if (status >= 200 && status < 300) {
        this.transmit(response);
        return;
      }
      throw new TransactionError('INVALID_STATE', `cannot send ${status} after a 2xx (state accepted)`);
    }
    if (this.state !== Proceeding)
      throw new TransactionError('INVALID_STATE', `cannot send ${status} in state ${this.state}`);
    this.timerTrying = this.stopTimer(this.timerTrying);
    if (status < 200) {
      this.transmit(response);
    } else if (status < 300) {
      // RFC 6026 §8.5: a 2xx from the TU is sent and the transaction enters Accepted, starting Timer L.
      this.transition(Accepted);
      this.timerL = this.startTimer(this.context.values.TIMER_L, this.fireL);
      this.transmit(response);
      this.compactMessages(response);
    } else {
      this.transition(Completed);
      // RFC 3261 §17.2.1: for unreliable transports Timer G is set to T1; for any transport Timer H is set to 64*T1.
      if (!this.flow.reliable) this.timerG = this.startTimer(this.intervalG, this.fireG);
      this.timerH = this.startTimer(this.context.values.TIMER_H, this.fireH);
      this.transmit(response);
      this.compactMessages(response);
    }
  }

  /**
   * Sends a non-2xx final response as a stateless UAS would (RFC 3261 §8.2.7) and ends the transaction
   * at once: no Timer G retransmissions, no 32 s of Timer H waiting for the ACK, which then matches
   * nothing and reaches the TU as an ACK without a transaction (a proxy drops it). A retransmitted
   * INVITE is a new request, and its response is regenerated. Only for responses that processing the
   * same request again regenerates with no other effect: challenges (§22.1: "Stateless UASs ... issue
   * challenges"), which is what a proxy answers to every first INVITE of a caller. Throws
   * TransactionError('INVALID_STATE') after a final response, and for 1xx and 2xx.
   */
  respondStateless(response: SipResponse): void {
    if (this.state !== Proceeding)
      throw new TransactionError('INVALID_STATE', `cannot send ${response.status} in state ${this.state}`);
    if (response.status < 300)
      throw new TransactionError('INVALID_STATE', 'a stateless response to an INVITE must be a 300-699');
    this.timerTrying = this.stopTimer(this.timerTrying);
    this.transmit(response);
    this.transition(Terminated);
  }

  /** After a final response the transaction mostly waits (Timer H, L: 32 s): keep its messages small meanwhile. */
  private compactMessages(response: SipResponse): void {
    this.request.compact();
    response.compact();
  }

  receiveRetransmission(_request: SipRequest, _flow: Flow): void {
    // RFC 3261 §17.2.1: in Proceeding the most recent provisional response MUST be retransmitted; in Completed the final one.
    if (this.state === Proceeding || this.state === Completed) this.retransmit();
    // RFC 6026 §8.7: INVITE retransmissions in Accepted MUST NOT be passed to the TU (absorbed); Confirmed absorbs too.
  }

  /** An ACK matched this transaction (RFC 3261 §17.2.3). @internal */
  receiveAck(ack: SipRequest, flow: Flow): void {
    switch (this.state) {
      case Completed:
        // RFC 3261 §17.2.1: an ACK in Completed moves to Confirmed; Timer G is ignored; Timer I is T4 (0 if reliable).
        this.timerG = this.stopTimer(this.timerG);
        this.timerH = this.stopTimer(this.timerH);
        this.transition(Confirmed);
        if (this.flow.reliable) this.transition(Terminated);
        else this.timerI = this.startTimer(this.context.values.TIMER_I, this.fireI);
        return;
      case Accepted:
        // RFC 6026 §8.7: "If an ACK is received while the INVITE server transaction is in the Accepted state, then the ACK MUST be passed up to the TU."
        this.context.passAck(ack, flow);
        return;
      default:
        // Confirmed absorbs ACK retransmissions; an ACK before any final response has nothing to acknowledge.
        return;
    }
  }

  protected transportFailed(error: Error): void {
    this.notifyTransportError(error);
    // RFC 3261 §17.2.4 (Figure 7): a transport error in Proceeding or Completed terminates the transaction.
    if (this.state === Proceeding || this.state === Completed) this.transition(Terminated);
  }

  protected clearTimers(): void {
    this.timerTrying = this.stopTimer(this.timerTrying);
    this.timerG = this.stopTimer(this.timerG);
    this.timerH = this.stopTimer(this.timerH);
    this.timerI = this.stopTimer(this.timerI);
    this.timerL = this.stopTimer(this.timerL);
  }

  private readonly fireTrying = (): void => {
    this.timerTrying = undefined;
    if (this.state === Proceeding && this.last === undefined) this.transmit(createResponse(this.request, 100));
  };

  private readonly fireG = (): void => {
    this.timerG = undefined;
    if (this.state !== Completed) return;
    // RFC 3261 §17.2.1: when Timer G fires the response is passed to the transport again and G reset to min(2*G, T2).
    this.retransmit();
    this.intervalG = Math.min(2 * this.intervalG, this.context.values.T2);
    this.timerG = this.startTimer(this.intervalG, this.fireG);
  };

  private readonly fireH = (): void => {
    this.timerH = undefined;
    if (this.state !== Completed) return;
    this.markTimedOut();
    // RFC 3261 §17.2.1: Timer H in Completed: MUST move to Terminated and MUST tell the TU a transaction failure occurred.
    this.timerG = this.stopTimer(this.timerG);
    const onTimeout = this.delegate?.onTimeout;
    if (onTimeout !== undefined) this.safely('onTimeout', () => onTimeout.call(this.delegate, this));
    if (!this.terminated) this.transition(Terminated);
  };

  private readonly fireI = (): void => {
    this.timerI = undefined;
    if (this.state === Confirmed) this.transition(Terminated);
  };

  private readonly fireL = (): void => {
    this.timerL = undefined;
    if (this.state === Accepted) this.transition(Terminated);
  };
}
