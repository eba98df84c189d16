import type { SipParseError } from '../sip-error.js';
import type { SipLogger } from '../transaction/sip-logger.js';
import type { Timers } from '../transaction/timers.js';
import type { Flow } from '../transport.js';
import type { EndpointUser } from './endpoint-user.js';

/** Observes every SIP message received or sent (the server's HANDSET_SIP_TRACE). Must not throw. */
export type EndpointTrace = (direction: 'in' | 'out', data: Buffer, flow: Flow) => void;

/** Options for SipEndpoint. */
export interface SipEndpointOptions {
  /** Receives requests, 2xx ACKs, stray responses and flow closures; can be set later (`endpoint.user`). */
  user?: EndpointUser | undefined;
  timers?: Timers | undefined;
  /** RFC 3261 T1 in ms (default 500). */
  t1?: number | undefined;
  /** RFC 3261 T2 in ms (default 4000). */
  t2?: number | undefined;
  /** RFC 3261 T4 in ms (default 5000). */
  t4?: number | undefined;
  logger?: SipLogger | undefined;
  trace?: EndpointTrace | undefined;
  /** Called once for every message that fails to parse (for metrics). Must not throw. */
  onParseError?: ((error: SipParseError, data: Buffer, flow: Flow) => void) | undefined;
}

/** Counters for metrics; read them, do not write them. */
export interface EndpointStats {
  messagesReceived: number;
  messagesSent: number;
  /** Messages that failed to parse. */
  parseErrors: number;
  /** Malformed requests answered statelessly (400 / 505 / 513). */
  malformedAnswered: number;
  /** Sends the transport rejected. */
  sendFailures: number;
}
