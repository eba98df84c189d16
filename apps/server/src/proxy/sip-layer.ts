/** What the proxy needs from the transaction layer and endpoint (packages/sip), kept narrow. */
import type { Flow, SendTarget, SipMessage, SipRequest, SipResponse } from '@handset/sip';

/** A server transaction as the proxy uses it. */
export interface ServerTransactionLike {
  readonly request: SipRequest;
  readonly flow: Flow;
  respond(res: SipResponse): void;
}

/** Callbacks of one client transaction (one forked branch). */
export interface ClientTransactionHandler {
  onResponse(res: SipResponse): void;
  onTimeout(): void;
  onTransportError(err: unknown): void;
}

/** The SIP layer below the proxy. */
export interface ProxySipLayer {
  sendRequest(req: SipRequest, target: SendTarget, handler: ClientTransactionHandler): void;
  sendStateless(msg: SipMessage, target: SendTarget): void;
  findInviteServerTransaction(cancel: SipRequest): ServerTransactionLike | undefined;
  /** True when a connection-oriented flow is still open. */
  isFlowOpen(target: SendTarget): boolean;
}
