import type { SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { ClientTransaction, type ClientTransactionHandler } from './client-transaction.js';
import type { TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionState } from './transaction-state.js';

const { Trying, Proceeding, Completed, Terminated } = TransactionState;

const TRANSITIONS: TransitionTable = {
  [Trying]: [Proceeding, Completed, Terminated],
  [Proceeding]: [Completed, Terminated],
  [Completed]: [Terminated],
};

/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 * ```
 *        start: send request, Timer E (UDP), Timer F
 *                        |
 *  Timer E: resend  +-> Trying --Timer F / transport error--> Terminated (TU told)
 *  (E = min(2E, T2))     |   \ 1xx: to TU
 *                        |    v
 *                        |  Proceeding  (Timer E: resend, E = T2; 1xx: to TU;
 *                        |    |          Timer F / transport error: Terminated)
 *         200-699: to TU |    | 200-699: to TU
 *                        v    v
 *                      Completed  (responses absorbed)
 *                        | Timer K (0 if reliable)
 *                        v
 *                     Terminated
 * ```
 */
export class ClientNonInviteTransaction extends ClientTransaction {
  private timerE: unknown;
  private intervalE: number;
  private timerF: unknown;
  private timerK: unknown;

  /** @internal Created by TransactionLayer.sendRequest. */
  constructor(
    context: TransactionContext,
    key: string,
    request: SipRequest,
    target: SendTarget,
    handler: ClientTransactionHandler,
  ) {
    super(context, key, request, target, handler, Trying, TRANSITIONS);
    this.intervalE = context.values.TIMER_E;
  }

  start(): void {
    this.transmit(this.request);
    // RFC 3261 §17.1.2.2: "If an unreliable transport is in use, the client transaction MUST set timer E to fire in T1 seconds."
    if (!this.reliable) this.timerE = this.startTimer(this.intervalE, this.fireE);
    // RFC 3261 §17.1.2.2: "the client transaction MUST set timer F to fire in 64*T1 seconds."
    this.timerF = this.startTimer(this.context.values.TIMER_F, this.fireF);
  }

  receiveResponse(response: SipResponse, _flow: Flow): void {
    if (this.state !== Trying && this.state !== Proceeding) return; // Completed absorbs retransmissions (§17.1.2.2)
    if (response.status < 200) {
      if (this.state === Trying) this.transition(Proceeding);
      this.pass(response);
      return;
    }
    // RFC 3261 §17.1.2.2: a final response in Trying or Proceeding MUST be passed to the TU, and Completed entered.
    this.timerE = this.stopTimer(this.timerE);
    this.timerF = this.stopTimer(this.timerF);
    this.transition(Completed);
    this.pass(response);
    if (this.terminated) return;
    // RFC 3261 §17.1.2.2: Timer K is T4 for unreliable transports and zero for reliable ones.
    if (this.reliable) this.transition(Terminated);
    else {
      this.timerK = this.startTimer(this.context.values.TIMER_K, this.fireK);
      // Only response retransmissions are absorbed from now on: keep the request small meanwhile.
      this.request.compact();
    }
  }

  protected transportFailed(error: Error): void {
    // RFC 3261 §17.1.2.2: a transport error in Trying or Proceeding informs the TU and terminates.
    if (this.state !== Trying && this.state !== Proceeding) return;
    this.safely('onTransportError', () => this.handler.onTransportError(this, error));
    if (!this.terminated) this.transition(Terminated);
  }

  protected clearTimers(): void {
    this.timerE = this.stopTimer(this.timerE);
    this.timerF = this.stopTimer(this.timerF);
    this.timerK = this.stopTimer(this.timerK);
  }

  private pass(response: SipResponse): void {
    this.safely('onResponse', () => this.handler.onResponse(response, this));
  }

  private readonly fireE = (): void => {
    this.timerE = undefined;
    if (this.state !== Trying && this.state !== Proceeding) return;
    this.transmit(this.request);
    // RFC 3261 §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it MUST be reset to T2.
    const { T2 } = this.context.values;
    this.intervalE = this.state === Trying ? Math.min(2 * this.intervalE, T2) : T2;
    this.timerE = this.startTimer(this.intervalE, this.fireE);
  };

  private readonly fireF = (): void => {
    this.timerF = undefined;
    if (this.state !== Trying && this.state !== Proceeding) return;
    this.markTimedOut();
    // RFC 3261 §17.1.2.2: Timer F in Trying or Proceeding: inform the TU of the timeout and terminate.
    this.safely('onTimeout', () => this.handler.onTimeout(this));
    if (!this.terminated) this.transition(Terminated);
  };

  private readonly fireK = (): void => {
    this.timerK = undefined;
    if (this.state === Completed) this.transition(Terminated);
  };
}
