import type { SipMessage, SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { Transaction, type TransitionTable } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import type { TransactionState } from './transaction-state.js';

/** How a client transaction reports to the TU that sent the request (one object, no per-event closures). */
export interface ClientTransactionHandler {
  /** A response the TU must see: provisional, final, and (INVITE, RFC 6026) every 2xx. */
  onResponse(response: SipResponse, transaction: ClientTransaction): void;
  /** Timer B or F fired: no final response in 64*T1 (the TU treats it as 408, RFC 3261 §8.1.3.1). */
  onTimeout(transaction: ClientTransaction): void;
  /** The transport could not send the request (RFC 3261 §17.1.4: treat as 503). */
  onTransportError(transaction: ClientTransaction, error: Error): void;
  /** The transaction has ended and been forgotten by the layer. */
  onTerminated?(transaction: ClientTransaction): void;
}

/** A client transaction (RFC 3261 §17.1): sends a request, retransmits it over UDP, matches its responses. */
export abstract class ClientTransaction extends Transaction {
  /** The TU that sent the request. */
  readonly handler: ClientTransactionHandler;
  /** True when the request travels over a reliable (stream) transport: no retransmissions (§17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  private currentTarget: SendTarget;
  private sentOn: Flow | undefined;

  protected constructor(
    context: TransactionContext,
    key: string,
    request: SipRequest,
    target: SendTarget,
    handler: ClientTransactionHandler,
    initial: TransactionState,
    table: TransitionTable,
  ) {
    super(context, key, request, initial, table);
    this.handler = handler;
    this.currentTarget = target;
    this.reliable = target.protocol !== 'udp';
  }

  /** Where the request goes; after the first send it names the flow used, so the ACK, CANCEL and retransmissions follow it. */
  get target(): SendTarget {
    return this.currentTarget;
  }

  /** The flow the request left on, once the transport has sent it. */
  get flow(): Flow | undefined {
    return this.sentOn;
  }

  /** Sends the request and starts the machine's timers. @internal */
  abstract start(): void;

  /** A response matched this transaction (§17.1.3). @internal */
  abstract receiveResponse(response: SipResponse, flow: Flow): void;

  /** A send failed: §17.1.1.2 / §17.1.2.2 inform the TU and terminate. */
  protected abstract transportFailed(error: Error): void;

  /** Hands a message (the request, a retransmission, the ACK) to the transport. */
  protected transmit(message: SipMessage): void {
    this.context.send(message, this.currentTarget).then(this.onSent, this.onSendFailed);
  }

  protected notifyTerminated(): void {
    const onTerminated = this.handler.onTerminated;
    if (onTerminated !== undefined) this.safely('onTerminated', () => onTerminated.call(this.handler, this));
  }

  private readonly onSent = (flow: Flow): void => {
    if (this.sentOn !== undefined) return;
    this.sentOn = flow;
    this.currentTarget = {
      protocol: flow.protocol,
      address: flow.remote.address,
      port: flow.remote.port,
      flowId: flow.id,
    };
  };

  private readonly onSendFailed = (error: unknown): void => {
    if (this.terminated) return;
    this.transportFailed(error instanceof Error ? error : new Error(String(error)));
  };
}
