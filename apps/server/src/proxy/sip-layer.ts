/** What the proxy needs from the transaction layer and endpoint (packages/sip), kept narrow. */
import type { Flow, SendTarget, SipMessage, SipRequest, SipResponse } from '@handset/sip';

/** A server transaction as the proxy uses it. */
export interface ServerTransactionLike {
  readonly request: SipRequest;
  readonly flow: Flow;
  respond(res: SipResponse): void;
  /**
   * Sends a challenge (401/407) as a stateless UAS does (RFC 3261 §8.2.7): the transaction ends at
   * once instead of waiting 32 s, and a retransmitted request is challenged again.
   */
  respondStateless(res: SipResponse): void;
}

/**
 * Callbacks of one client transaction (one forked branch). The shape fits the transaction layer's
 * own handler (which passes more arguments), so a handler goes down as it is, without a wrapper.
 */
export interface ClientTransactionHandler {
  onResponse(res: SipResponse): void;
  onTimeout(): void;
  onTransportError(): void;
}

/** The SIP layer below the proxy. */
export interface ProxySipLayer {
  sendRequest(req: SipRequest, target: SendTarget, handler: ClientTransactionHandler): void;
  sendStateless(msg: SipMessage, target: SendTarget): void;
  findInviteServerTransaction(cancel: SipRequest): ServerTransactionLike | undefined;
  /** True when a connection-oriented flow is still open. */
  isFlowOpen(target: SendTarget): boolean;
}
