/** The transaction layer (RFC 3261 §17): matches messages to transactions and runs their state machines. */
import { createResponse } from '../create-response.js';
import type { SipMessage, SipRequest, SipResponse } from '../message.js';
import type { Flow, SendTarget } from '../transport.js';
import { BRANCH_MAGIC_COOKIE } from '../via.js';
import { ClientInviteTransaction } from './client-invite-transaction.js';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { CompletedResponses } from './completed-responses.js';
import type { ClientTransaction, ClientTransactionHandler } from './client-transaction.js';
import { responseTarget } from './response-target.js';
import { ServerInviteTransaction } from './server-invite-transaction.js';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { ServerTransaction } from './server-transaction.js';
import { SILENT_SIP_LOGGER, type SipLogger } from './sip-logger.js';
import { resolveTimerValues, type TimerValues } from './timer-values.js';
import { SYSTEM_TIMERS, type Timers } from './timers.js';
import type { Transaction } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionError } from './transaction-error.js';
import { clientKey, hasMagicCookie, responseKey, serverKey } from './transaction-key.js';
import { TransactionState } from './transaction-state.js';
import type { TransactionUser } from './transaction-user.js';

/** Options for TransactionLayer. */
export interface TransactionLayerOptions {
  /**
   * Hands a message to the transport layer (the endpoint serializes it and picks the transport), or
   * bytes already serialized: the final responses that Completed transactions resend.
   */
  send(message: SipMessage | Buffer, target: SendTarget): Promise<Flow>;
  /** Receives new requests, 2xx ACKs and stray responses. */
  tu: TransactionUser;
  /** The clock (default: Node's timers). */
  timers?: Timers | undefined;
  /** RTT estimate in ms (default 500). */
  t1?: number | undefined;
  /** Maximum retransmission interval in ms (default 4000). */
  t2?: number | undefined;
  /** Maximum message lifetime in the network in ms (default 5000). */
  t4?: number | undefined;
  logger?: SipLogger | undefined;
}

/** Counters for metrics; read them, do not write them. */
export interface TransactionStats {
  serverCreated: number;
  clientCreated: number;
  /** Request retransmissions and ACK retransmissions absorbed by a server transaction. */
  retransmissionsAbsorbed: number;
  /** Client transactions that ended on Timer B/F, server INVITE transactions that ended on Timer H. */
  timeouts: number;
  /** Sends that failed inside a transaction. */
  transportErrors: number;
}

/**
 * The transaction layer: server transactions for incoming requests, client transactions
 * for outgoing ones, each filed under a string key so that matching is one Map lookup.
 * Terminated transactions are removed at once. `close()` ends everything (idempotent).
 */
export class TransactionLayer {
  /** The timer values in use. */
  readonly values: TimerValues;
  /** Counters for metrics. */
  readonly stats: TransactionStats = {
    serverCreated: 0,
    clientCreated: 0,
    retransmissionsAbsorbed: 0,
    timeouts: 0,
    transportErrors: 0,
  };
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  /** Completed non-INVITE server transactions over UDP, held compactly until Timer J. */
  private readonly completed: CompletedResponses;
  private readonly tu: TransactionUser;
  private readonly logger: SipLogger;
  private readonly context: TransactionContext;
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    this.values = resolveTimerValues(options);
    this.tu = options.tu;
    this.logger = options.logger ?? SILENT_SIP_LOGGER;
    const send = options.send;
    const timers = options.timers ?? SYSTEM_TIMERS;
    this.completed = new CompletedResponses(timers, this.values.TIMER_J, () => this.context.now());
    this.context = {
      timers,
      values: this.values,
      logger: this.logger,
      send: (message, target) => {
        const sent = send(message, target);
        sent.then(undefined, this.countTransportError);
        return sent;
      },
      terminated: (transaction) => this.forget(transaction),
      retire: (transaction, wire, target, notify) => {
        if ((this.servers.get(transaction.key) as Transaction | undefined) === transaction)
          this.servers.delete(transaction.key);
        return this.completed.add(transaction.key, wire, target, transaction, notify);
      },
      now: () => timers.now?.() ?? Date.now(),
      passAck: (ack, flow) => this.deliverAck(ack, flow),
    };
  }

  /** Live server transactions (Completed non-INVITE ones included). */
  get serverCount(): number {
    return this.servers.size + this.completed.size;
  }

  /** Live client transactions. */
  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Handles a request from the transport (RFC 3261 §17.2.3): a retransmission goes to
   * its server transaction (which resends its last response), an ACK to its INVITE
   * transaction or else to `tu.onAck`, and a new request creates a server transaction
   * handed to `tu.onRequest`.
   */
  receiveRequest(request: SipRequest, flow: Flow): void {
    if (this.closed) return;
    if (request.method === 'ACK') {
      this.receiveAck(request, flow);
      return;
    }
    const key = serverKey(request);
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      this.stats.retransmissionsAbsorbed++;
      existing.receiveRetransmission(request, flow);
      return;
    }
    const completed = this.completed.get(key);
    if (completed !== undefined) {
      // RFC 3261 §17.2.2: in Completed a retransmission gets the final response again.
      this.stats.retransmissionsAbsorbed++;
      this.context
        .send(completed.wire, completed.target)
        .then(undefined, (err: unknown) =>
          this.completed.failed(key, err instanceof Error ? err : new Error(String(err))),
        );
      return;
    }
    // The key is a rope over slices of the received text: flatten it so that holding the key
    // (for up to Timer J) does not hold the whole datagram.
    key.charCodeAt(0);
    const target = responseTarget(request.topVia, flow);
    const transaction =
      request.method === 'INVITE'
        ? new ServerInviteTransaction(this.context, key, request, flow, target)
        : new ServerNonInviteTransaction(this.context, key, request, flow, target);
    this.servers.set(key, transaction);
    this.stats.serverCreated++;
    try {
      this.tu.onRequest(transaction);
    } catch (err) {
      this.logger.warn({ err, method: request.method, callId: request.callId }, 'transaction user threw in onRequest');
      // A TU that failed before answering still owes the client a final response.
      if (transaction.lastResponse === undefined || transaction.lastResponse.status < 200) {
        try {
          if (transaction.state === TransactionState.Trying || transaction.state === TransactionState.Proceeding) {
            transaction.respond(createResponse(request, 500));
          }
        } catch (respondError) {
          this.logger.debug({ err: respondError }, 'could not answer 500 after a TU failure');
        }
      }
    }
  }

  /**
   * Handles a response from the transport (RFC 3261 §17.1.3): matched on top Via branch
   * and CSeq method to a client transaction, else given to `tu.onStrayResponse`.
   */
  receiveResponse(response: SipResponse, flow: Flow): void {
    if (this.closed) return;
    const key = responseKey(response);
    const transaction = key === undefined ? undefined : this.clients.get(key);
    if (transaction !== undefined) {
      transaction.receiveResponse(response, flow);
      return;
    }
    try {
      this.tu.onStrayResponse(response, flow);
    } catch (err) {
      this.logger.warn({ err, status: response.status }, 'transaction user threw in onStrayResponse');
    }
  }

  /**
   * Sends a request through a new client transaction. The request must carry its top
   * Via with a magic-cookie branch (RFC 3261 §8.1.1.7); the transaction is keyed on it.
   * Throws TransactionError for ACK (never a transaction), a missing branch or a duplicate.
   */
  sendRequest(request: SipRequest, target: SendTarget, handler: ClientTransactionHandler): ClientTransaction {
    if (this.closed) throw new TransactionError('CLOSED', 'the transaction layer is closed');
    if (request.method === 'ACK') throw new TransactionError('NOT_A_TRANSACTION', 'ACK is sent without a transaction');
    const branch = request.firstVia()?.params.get('branch');
    if (branch === undefined || branch === null || !branch.startsWith(BRANCH_MAGIC_COOKIE)) {
      throw new TransactionError('MISSING_BRANCH', 'the top Via needs a branch starting with z9hG4bK');
    }
    const key = clientKey(branch, request.method);
    if (this.clients.has(key))
      throw new TransactionError(
        'DUPLICATE_TRANSACTION',
        `a ${request.method} transaction with branch ${branch} exists`,
      );
    const transaction =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(this.context, key, request, target, handler)
        : new ClientNonInviteTransaction(this.context, key, request, target, handler);
    this.clients.set(key, transaction);
    this.stats.clientCreated++;
    transaction.start();
    return transaction;
  }

  /**
   * The server transaction a CANCEL refers to (RFC 3261 §9.2): matched as if the CANCEL
   * were the INVITE (same branch and sent-by, or for RFC 2543 clients the same
   * Request-URI, tags, Call-ID, CSeq number and top Via). Undefined when there is none
   * or it has terminated.
   */
  findInviteServerTransaction(cancel: SipRequest): ServerInviteTransaction | undefined {
    const transaction = this.servers.get(serverKey(cancel, 'INVITE'));
    return transaction instanceof ServerInviteTransaction ? transaction : undefined;
  }

  /** The live server transaction filed under a key (for tests and diagnostics). */
  getServerTransaction(key: string): ServerTransaction | undefined {
    return this.servers.get(key);
  }

  /** The live client transaction filed under a key (for tests and diagnostics). */
  getClientTransaction(key: string): ClientTransaction | undefined {
    return this.clients.get(key);
  }

  /** Ends every transaction and clears every timer, without callbacks. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const transaction of this.servers.values()) transaction.dispose();
    for (const transaction of this.clients.values()) transaction.dispose();
    this.completed.clear();
    this.servers.clear();
    this.clients.clear();
  }

  private receiveAck(ack: SipRequest, flow: Flow): void {
    const transaction = this.findAckTransaction(ack);
    if (transaction === undefined) {
      this.deliverAck(ack, flow);
      return;
    }
    if (transaction.state === TransactionState.Confirmed) this.stats.retransmissionsAbsorbed++;
    transaction.receiveAck(ack, flow);
  }

  /**
   * RFC 3261 §17.2.3: an ACK matches the INVITE transaction with its branch and sent-by;
   * for RFC 2543 clients, the INVITE's Request-URI, From tag, Call-ID, CSeq number and
   * top Via, with the ACK's To tag equal to that of the response the transaction sent.
   */
  private findAckTransaction(ack: SipRequest): ServerInviteTransaction | undefined {
    if (hasMagicCookie(ack)) {
      const found = this.servers.get(serverKey(ack));
      return found instanceof ServerInviteTransaction ? found : undefined;
    }
    const ackTag = ack.to.params.get('tag') ?? '';
    // The INVITE was filed under its own To tag: none for an initial INVITE, the dialog's for a re-INVITE.
    for (const inviteTag of ackTag === '' ? [''] : [ackTag, '']) {
      const found = this.servers.get(serverKey(ack, 'INVITE', inviteTag));
      if (!(found instanceof ServerInviteTransaction)) continue;
      const responseTag = found.lastResponse?.to.params.get('tag') ?? '';
      if (responseTag === ackTag) return found;
    }
    return undefined;
  }

  private deliverAck(ack: SipRequest, flow: Flow): void {
    try {
      this.tu.onAck(ack, flow);
    } catch (err) {
      this.logger.warn({ err, callId: ack.callId }, 'transaction user threw in onAck');
    }
  }

  private forget(transaction: Transaction): void {
    if (transaction.timedOut) this.stats.timeouts++;
    const map: Map<string, Transaction> = transaction instanceof ServerTransaction ? this.servers : this.clients;
    if (map.get(transaction.key) === transaction) map.delete(transaction.key);
    else if (transaction instanceof ServerNonInviteTransaction) this.completed.remove(transaction.key, transaction);
  }

  private readonly countTransportError = (): void => {
    this.stats.transportErrors++;
  };
}
