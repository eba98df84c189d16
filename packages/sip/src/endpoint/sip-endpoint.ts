/**
 * The message-level glue between transports and the transaction layer: bytes in,
 * parsed and stamped (RFC 3261 §18.2.1, RFC 3581), handed to the transaction layer;
 * messages out, serialized and sent over the right transport and flow (§18.2.2).
 */
import { createResponse } from '../create-response.js';
import type { SipMessage, SipRequest, SipResponse } from '../message.js';
import { parseMessage } from '../parser.js';
import { serializeMessage } from '../serializer.js';
import { SipParseError } from '../sip-error.js';
import type { ClientTransaction, ClientTransactionHandler } from '../transaction/client-transaction.js';
import { responseTarget } from '../transaction/response-target.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { ServerTransaction } from '../transaction/server-transaction.js';
import { SILENT_SIP_LOGGER, type SipLogger } from '../transaction/sip-logger.js';
import { TransactionLayer } from '../transaction/transaction-layer.js';
import type { TransactionUser } from '../transaction/transaction-user.js';
import {
  type Flow,
  type SendTarget,
  type Transport,
  type TransportDelegate,
  TransportError,
  type TransportProtocol,
} from '../transport.js';
import type { EndpointUser } from './endpoint-user.js';
import { malformedRequestResponse } from './malformed-request-response.js';
import type { EndpointStats, EndpointTrace, SipEndpointOptions } from './sip-endpoint-options.js';
import { stampReceived } from './stamp-received.js';

const isIpv6 = (address: string): boolean => address.includes(':');

/** True for bytes that hold only CR, LF, SP or HT (keep-alives; RFC 5626 §4.4.1, RFC 3261 §7.5). */
function isBlank(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c !== 13 && c !== 10 && c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * A SIP endpoint: the TransportDelegate of every transport it is given, owner of the
 * TransactionLayer, and the one place messages are serialized and sent.
 * `close()` closes the layer and the transports (idempotent).
 */
export class SipEndpoint implements TransportDelegate {
  /** The transaction layer (e.g. `findInviteServerTransaction`, stats). */
  readonly layer: TransactionLayer;
  /** Counters for metrics. */
  readonly stats: EndpointStats = {
    messagesReceived: 0,
    messagesSent: 0,
    parseErrors: 0,
    malformedAnswered: 0,
    sendFailures: 0,
  };
  /** Who receives requests, ACKs, stray responses and flow closures. */
  user: EndpointUser | undefined;
  private readonly transports = new Map<TransportProtocol, Transport[]>();
  private readonly logger: SipLogger;
  private readonly trace: EndpointTrace | undefined;
  private readonly onParseError: SipEndpointOptions['onParseError'];
  private closing: Promise<void> | undefined;

  constructor(options: SipEndpointOptions = {}) {
    this.user = options.user;
    this.logger = options.logger ?? SILENT_SIP_LOGGER;
    this.trace = options.trace;
    this.onParseError = options.onParseError;
    this.layer = new TransactionLayer({
      send: (message, target) => this.send(message, target),
      tu: this.transactionUser,
      timers: options.timers,
      t1: options.t1,
      t2: options.t2,
      t4: options.t4,
      logger: this.logger,
    });
  }

  /** Adds a transport to send through (its delegate should be this endpoint). */
  addTransport(transport: Transport): void {
    const list = this.transports.get(transport.protocol);
    if (list === undefined) this.transports.set(transport.protocol, [transport]);
    else list.push(transport);
  }

  /** The transports added, in order. */
  get transportList(): Transport[] {
    return [...this.transports.values()].flat();
  }

  /** TransportDelegate: one complete message from a transport. Never throws. */
  onMessage(data: Buffer, flow: Flow): void {
    this.stats.messagesReceived++;
    if (this.trace !== undefined) this.traceSafely('in', data, flow);
    if (isBlank(data)) return;
    let message: SipMessage;
    try {
      // TCP/TLS arrive framed by Content-Length; UDP datagrams and WebSocket messages carry one message each (RFC 7118 §5).
      message = parseMessage(data, { stream: flow.protocol === 'tcp' || flow.protocol === 'tls' });
    } catch (err) {
      this.malformed(
        data,
        err instanceof SipParseError ? err : new SipParseError('malformed message', { cause: err }),
        flow,
      );
      return;
    }
    try {
      if (message.isRequest()) {
        // RFC 3261 §18.2.1 / RFC 3581 §4: record where the request really came from.
        stampReceived(message, flow.remote);
        this.layer.receiveRequest(message, flow);
      } else {
        this.layer.receiveResponse(message as SipResponse, flow);
      }
    } catch (err) {
      this.logger.warn({ err, flow: flow.id }, 'SIP message handling failed');
    }
  }

  /** TransportDelegate: a stream request that could not be framed; answered 400 when it can be (never throws). */
  onUnframed(data: Buffer, reason: string, flow: Flow): void {
    this.stats.messagesReceived++;
    // RFC 3261 §18.3: Content-Length MUST be used on streams; the request is answered 400 before the close.
    this.malformed(data, new SipParseError(`Content-Length: ${reason.replace(/^content-length-/, '')}`), flow);
  }

  /** TransportDelegate: a connection closed. */
  onFlowClosed(flow: Flow): void {
    const user = this.user;
    if (user?.onFlowClosed === undefined) return;
    try {
      user.onFlowClosed(flow);
    } catch (err) {
      this.logger.warn({ err, flow: flow.id }, 'endpoint user threw in onFlowClosed');
    }
  }

  /**
   * Serializes and sends a message outside any transaction (an ACK for a 2xx, a
   * stateless forward), or sends bytes already serialized (a transaction's resent final
   * response). Picks the transport by protocol and flow. A target naming a
   * flow of a stream transport (TCP/TLS/WS/WSS) is sent over that flow only: when it
   * has closed the send fails instead of opening a new connection (RFC 3261 §18.2.2,
   * RFC 5626 §5.3, RFC 7118 §5).
   */
  send(message: SipMessage | Buffer, target: SendTarget): Promise<Flow> {
    const transport = this.pickTransport(target);
    if (transport === undefined) return this.fail(new TransportError(`no ${target.protocol} transport`));
    if (target.flowId !== undefined && target.protocol !== 'udp' && transport.getFlow(target.flowId) === undefined) {
      return this.fail(
        new TransportError(`${target.protocol} flow ${target.flowId} to ${target.address}:${target.port} is closed`),
      );
    }
    let data: Buffer;
    try {
      data = Buffer.isBuffer(message) ? message : serializeMessage(message);
    } catch (err) {
      return this.fail(new TransportError('cannot serialize message', { cause: err }));
    }
    this.stats.messagesSent++;
    const sent = transport.send(data, target);
    sent.then(
      this.trace === undefined ? undefined : (flow) => this.traceSafely('out', data, flow),
      this.countSendFailure,
    );
    return sent;
  }

  /** True when the target names a flow that one of the transports still has open. */
  isFlowOpen(target: SendTarget): boolean {
    if (target.flowId === undefined) return false;
    const list = this.transports.get(target.protocol);
    if (list === undefined) return false;
    for (const t of list) if (t.getFlow(target.flowId) !== undefined) return true;
    return false;
  }

  /** Same as `send`: a message that belongs to no transaction. */
  sendStateless(message: SipMessage, target: SendTarget): Promise<Flow> {
    return this.send(message, target);
  }

  /** Sends a response statelessly to the request's source (RFC 3261 §18.2.2): over `flow` for streams, else by Via. */
  sendResponse(response: SipResponse, flow: Flow): Promise<Flow> {
    return this.send(response, responseTarget(response.topVia, flow));
  }

  /** Sends a request through a new client transaction (see TransactionLayer.sendRequest). */
  sendRequest(request: SipRequest, target: SendTarget, handler: ClientTransactionHandler): ClientTransaction {
    return this.layer.sendRequest(request, target, handler);
  }

  /** The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2). */
  findInviteServerTransaction(cancel: SipRequest): ServerInviteTransaction | undefined {
    return this.layer.findInviteServerTransaction(cancel);
  }

  /** Ends every transaction and closes every transport. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.layer.close();
      await Promise.all(this.transportList.map((t) => t.close()));
    })();
    return this.closing;
  }

  private pickTransport(target: SendTarget): Transport | undefined {
    const list = this.transports.get(target.protocol);
    if (list === undefined) return undefined;
    if (list.length === 1) return list[0];
    if (target.flowId !== undefined) {
      for (const t of list) if (t.getFlow(target.flowId) !== undefined) return t;
    }
    const v6 = isIpv6(target.address);
    return list.find((t) => isIpv6(t.local.address) === v6) ?? list[0];
  }

  private malformed(data: Buffer, error: SipParseError, flow: Flow): void {
    this.stats.parseErrors++;
    this.logger.debug({ flow: flow.id, error: error.message, status: error.status }, 'malformed SIP message');
    if (this.onParseError !== undefined) {
      try {
        this.onParseError(error, data, flow);
      } catch (err) {
        this.logger.warn({ err }, 'onParseError hook threw');
      }
    }
    const answer = malformedRequestResponse(data, error, flow.remote);
    if (answer === undefined) return;
    this.stats.malformedAnswered++;
    // A top Via too broken to read: the response goes back where the request came from (§18.2.2 for streams, RFC 3581 for UDP).
    const target =
      answer.via !== undefined
        ? responseTarget(answer.via, flow)
        : { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, flowId: flow.id };
    this.send(answer.response, target).then(undefined, () => {});
  }

  private fail(error: TransportError): Promise<Flow> {
    this.stats.sendFailures++;
    return Promise.reject(error);
  }

  private traceSafely(direction: 'in' | 'out', data: Buffer, flow: Flow): void {
    try {
      this.trace?.(direction, data, flow);
    } catch (err) {
      this.logger.warn({ err }, 'SIP trace hook threw');
    }
  }

  private readonly countSendFailure = (): void => {
    this.stats.sendFailures++;
  };

  /** Forwards the transaction layer's reports to `user`; with no user yet, requests get 503. */
  private readonly transactionUser: TransactionUser = {
    onRequest: (transaction: ServerTransaction) => {
      const user = this.user;
      if (user !== undefined) user.onRequest(transaction);
      else transaction.respond(createResponse(transaction.request, 503));
    },
    onAck: (ack, flow) => this.user?.onAck(ack, flow),
    onStrayResponse: (response, flow) => this.user?.onStrayResponse(response, flow),
  };
}
