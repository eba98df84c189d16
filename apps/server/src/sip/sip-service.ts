/**
 * The SIP application: the transaction user that sends REGISTER to the registrar and
 * everything else to the proxy, and the adapter that gives the proxy its narrow view of
 * the transaction layer.
 */
import {
  createResponse,
  type Flow,
  type SendTarget,
  ServerInviteTransaction,
  ServerNonInviteTransaction,
  type ServerTransaction,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type TransactionLayer,
  type TransactionUser,
} from '@handset/sip';
import type { Logger } from 'pino';
import type { ProxyCore } from '../proxy/proxy-core.js';
import type { ClientTransactionHandler, ProxySipLayer, ServerTransactionLike } from '../proxy/sip-layer.js';
import type { Registrar } from '../registrar/registrar.js';

/** How the service sends statelessly and checks flows (the endpoint). */
export interface SipWire {
  sendStateless(message: SipMessage, target: SendTarget): void;
  isFlowOpen(target: SendTarget): boolean;
}

/** Routes transactions to the registrar and the proxy. */
export class SipService implements TransactionUser, ProxySipLayer {
  private layer!: TransactionLayer;
  private proxy!: ProxyCore;
  private registrar!: Registrar;

  constructor(
    private readonly wire: SipWire,
    private readonly logger: Logger,
  ) {}

  /** Late wiring: the layer, registrar and proxy all refer to this service. */
  bind(parts: { layer: TransactionLayer; registrar: Registrar; proxy: ProxyCore }): void {
    this.layer = parts.layer;
    this.registrar = parts.registrar;
    this.proxy = parts.proxy;
  }

  onRequest(transaction: ServerTransaction): void {
    const req = transaction.request;
    if (req.method === 'REGISTER') {
      // The registrar answers once and keeps nothing: no wrapper (and no WeakMap entry) needed.
      this.registrar.answer(req, transaction.flow).then(
        (a) => this.respondTo(transaction, a.response, a.stateless),
        (err: unknown) => {
          this.logger.error({ err, callId: req.callId }, 'REGISTER failed');
          this.respondTo(transaction, createResponse(req, 500, { toTag: 'err' }));
        },
      );
      return;
    }
    void this.proxy.onRequest(this.wrap(transaction));
  }

  onAck(ack: SipRequest, flow: Flow): void {
    void this.proxy.onAck(ack, flow);
  }

  onStrayResponse(response: SipResponse): void {
    this.proxy.onStrayResponse(response);
  }

  sendRequest(req: SipRequest, target: SendTarget, handler: ClientTransactionHandler): void {
    // The proxy's handler takes fewer arguments than the layer passes: it goes down as it is.
    this.layer.sendRequest(req, target, handler);
  }

  sendStateless(message: SipMessage, target: SendTarget): void {
    this.wire.sendStateless(message, target);
  }

  findInviteServerTransaction(cancel: SipRequest): ServerTransactionLike | undefined {
    const t = this.layer.findInviteServerTransaction(cancel);
    return t ? this.wrap(t) : undefined;
  }

  isFlowOpen(target: SendTarget): boolean {
    return this.wire.isFlowOpen(target);
  }

  /**
   * One wrapper per transaction (the proxy keys on it), kept in the transaction's userData; a
   * response the machine refuses is logged, not thrown.
   */
  private wrap(t: ServerTransaction): ServerTransactionLike {
    let w = t.userData as ServerTransactionLike | undefined;
    if (w === undefined) {
      w = {
        request: t.request,
        flow: t.flow,
        respond: (res: SipResponse) => this.respondTo(t, res),
        respondStateless: (res: SipResponse) => this.respondTo(t, res, true),
      };
      t.userData = w;
    }
    return w;
  }

  /** `stateless`: a challenge the request would get again, sent with no transaction kept (RFC 3261 §8.2.7). */
  private respondTo(t: ServerTransaction, res: SipResponse, stateless = false): void {
    try {
      if (stateless && (t instanceof ServerNonInviteTransaction || t instanceof ServerInviteTransaction))
        t.respondStateless(res);
      else t.respond(res);
    } catch (err) {
      this.logger.debug({ err, status: res.status, callId: t.request.callId }, 'response not sent by the transaction');
    }
  }
}
