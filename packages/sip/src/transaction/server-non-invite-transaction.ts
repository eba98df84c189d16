import type { SipRequest, SipResponse } from '../message.js';
import { serializeMessage } from '../serializer.js';
import type { Flow, SendTarget } from '../transport.js';
import { ServerTransaction } from './server-transaction.js';
import type { RetiredTransaction } from './completed-responses.js';
import type { TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionError } from './transaction-error.js';
import { TransactionState } from './transaction-state.js';

const { Trying, Proceeding, Completed, Terminated } = TransactionState;

const TRANSITIONS: TransitionTable = {
  [Trying]: [Proceeding, Completed, Terminated],
  [Proceeding]: [Completed, Terminated],
  [Completed]: [Terminated],
};

/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2).
 *
 * ```
 *           request arrives
 *                 |
 *               Trying   (retransmissions absorbed)
 *   1xx from TU: |    \ 200-699 from TU: send
 *   send         v     \
 *           Proceeding  \     (request: resend 1xx; 1xx from TU: send)
 *                 | 200-699 from TU: send
 *                 v    v
 *               Completed   (request: resend final)
 *                 | Timer J (0 if reliable)        transport error in Proceeding/Completed:
 *                 v                                TU told, Terminated
 *              Terminated
 * ```
 */
export class ServerNonInviteTransaction extends ServerTransaction implements RetiredTransaction {
  /** When retired to the layer (Completed over UDP): the time Timer J ends the transaction. */
  private retiredUntil: number | undefined = undefined;

  /** @internal Created by the TransactionLayer when a non-INVITE request arrives. */
  constructor(context: TransactionContext, key: string, request: SipRequest, flow: Flow, target: SendTarget) {
    super(context, key, request, flow, target, Trying, TRANSITIONS);
  }

  respond(response: SipResponse): void {
    if (this.state !== Trying && this.state !== Proceeding) {
      // RFC 3261 §17.2.2: any other final responses passed by the TU in Completed MUST be discarded; we tell the caller.
      throw new TransactionError('INVALID_STATE', `cannot send ${response.status} in state ${this.state}`);
    }
    if (response.status < 200) {
      if (this.state === Trying) this.transition(Proceeding);
      this.transmit(response);
      return;
    }
    this.transition(Completed);
    // RFC 3261 §17.2.2: Timer J is 64*T1 for unreliable transports and zero for reliable ones.
    if (this.flow.reliable) {
      this.transmit(response);
      this.transition(Terminated);
      return;
    }
    let wire: Buffer;
    try {
      wire = serializeMessage(response);
    } catch {
      // The endpoint fails the send the same way (and the transaction ends through transportFailed).
      this.transmit(response);
      return;
    }
    // Only retransmissions are absorbed from now on (for 32 s): the layer holds the bytes just
    // sent and runs Timer J; this object is let go unless the TU wants callbacks.
    this.transmit(response, wire);
    const d = this.delegate;
    const notify = d?.onTerminated !== undefined || d?.onTransportError !== undefined;
    if (notify) response.compact(); // kept with this object, which the layer then holds
    this.retiredUntil = this.context.retire(this, wire, this.target, notify);
  }

  /**
   * Sends a final response as a stateless UAS would (RFC 3261 §8.2.7) and ends the transaction at
   * once, without the 64*T1 of Completed: a retransmission of the request is then a new request,
   * processed again, and its response regenerated. Only for responses that processing the same
   * request again regenerates with no other effect: challenges (§22.1: "Stateless UASs ... issue
   * challenges"), which is what a registrar answers to every first REGISTER. Anything with an
   * effect (a registration, a counted failure) goes through `respond()`, whose Completed state
   * absorbs the retransmissions. Throws TransactionError('INVALID_STATE') as `respond()` does.
   */
  respondStateless(response: SipResponse): void {
    if (this.state !== Trying && this.state !== Proceeding) {
      throw new TransactionError('INVALID_STATE', `cannot send ${response.status} in state ${this.state}`);
    }
    if (response.status < 200) throw new TransactionError('INVALID_STATE', 'a stateless response must be final');
    this.transmit(response);
    this.transition(Terminated);
  }

  /** Completed until Timer J, Terminated after: also when the layer no longer holds this object. */
  override get state(): TransactionState {
    const s = super.state;
    return s === Completed && this.retiredUntil !== undefined && this.context.now() >= this.retiredUntil
      ? Terminated
      : s;
  }

  /** @internal Timer J fired for this retired transaction (RFC 3261 §17.2.2). */
  retiredTimerJ(): void {
    if (super.state === Completed) this.transition(Terminated);
  }

  /** @internal Resending the final response of this retired transaction failed. */
  retiredTransportError(error: Error): void {
    this.transportFailed(error);
  }

  receiveRetransmission(_request: SipRequest, _flow: Flow): void {
    // RFC 3261 §17.2.2: in Trying retransmissions are discarded; in Proceeding and Completed the last response is resent.
    if (this.state === Proceeding || this.state === Completed) this.retransmit();
  }

  protected transportFailed(error: Error): void {
    this.notifyTransportError(error);
    // RFC 3261 §17.2.2 (Figure 8): a transport error in Proceeding or Completed informs the TU and terminates.
    if (this.state === Proceeding || this.state === Completed) this.transition(Terminated);
  }

  protected clearTimers(): void {
    // No timer of its own: Timer J runs in the layer (CompletedResponses).
  }
}
