import type { SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { Transaction, type TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import type { TransactionState } from './transaction-state.js';

/** What a server transaction tells the TU after onRequest (set `transaction.delegate`). */
export interface ServerTransactionDelegate {
  /** The transaction has ended and been forgotten by the layer. */
  onTerminated?(transaction: ServerTransaction): void;
  /** Timer H fired: the ACK for a non-2xx final response never came (RFC 3261 §17.2.1). */
  onTimeout?(transaction: ServerTransaction): void;
  /** A response could not be sent (RFC 3261 §17.2.4). */
  onTransportError?(transaction: ServerTransaction, error: Error): void;
}

/** A server transaction (RFC 3261 §17.2): absorbs request retransmissions and carries the TU's responses. */
export abstract class ServerTransaction extends Transaction {
  /** The flow the request arrived on. */
  readonly flow: Flow;
  /** Where responses go (RFC 3261 §18.2.2, RFC 3581 §4): the arrival flow for stream transports. */
  readonly target: SendTarget;
  /** Callbacks for the TU; set it in onRequest. */
  delegate: ServerTransactionDelegate | undefined;
  /**
   * For the TU's own use (what it keeps per transaction, found again from the transaction, as for a
   * CANCEL); the transaction never reads it. Cheaper than a WeakMap entry per transaction.
   */
  userData: unknown = undefined;
  protected last: SipResponse | undefined;

  protected constructor(
    context: TransactionContext,
    key: string,
    request: SipRequest,
    flow: Flow,
    target: SendTarget,
    initial: TransactionState,
    table: TransitionTable,
  ) {
    super(context, key, request, initial, table);
    this.flow = flow;
    this.target = target;
  }

  /** The most recent response sent (what a request retransmission gets again). */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  /**
   * Sends a response through the transaction. Throws TransactionError('INVALID_STATE')
   * when the machine cannot send it (e.g. a second final response).
   */
  abstract respond(response: SipResponse): void;

  /** A retransmission of the request arrived. @internal */
  abstract receiveRetransmission(request: SipRequest, flow: Flow): void;

  /** A send failed. */
  protected abstract transportFailed(error: Error): void;

  /** Hands a response (or `wire`, its bytes already serialized) to the transport and remembers it for retransmissions. */
  protected transmit(response: SipResponse, wire?: Buffer): void {
    this.last = response;
    this.context.send(wire ?? response, this.target).then(undefined, this.onSendFailed);
  }

  /** Sends the last response again (a request retransmission or Timer G). */
  protected retransmit(): void {
    if (this.last !== undefined) this.context.send(this.last, this.target).then(undefined, this.onSendFailed);
  }

  protected notifyTerminated(): void {
    const onTerminated = this.delegate?.onTerminated;
    if (onTerminated !== undefined) this.safely('onTerminated', () => onTerminated.call(this.delegate, this));
  }

  /** Tells the TU that a response could not be sent. */
  protected notifyTransportError(error: Error): void {
    const onTransportError = this.delegate?.onTransportError;
    if (onTransportError !== undefined)
      this.safely('onTransportError', () => onTransportError.call(this.delegate, this, error));
  }

  private readonly onSendFailed = (error: unknown): void => {
    this.transportFailed(error instanceof Error ? error : new Error(String(error)));
  };
}
