import type { TransactionUser } from '../transaction/transaction-user.js';
import type { Flow } from '../transport.js';

/** What the server (registrar + proxy) implements to receive from a SipEndpoint. */
export interface EndpointUser extends TransactionUser {
  /** A connection-oriented flow closed: bindings over it are unreachable (RFC 5626 §5.3). */
  onFlowClosed?(flow: Flow): void;
}
