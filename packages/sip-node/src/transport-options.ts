import type { Flow, TransportDelegate } from '@handset/sip';

/** The structured logger transports write to; pino's Logger satisfies it. */
export interface TransportLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Observes every SIP message received or sent (the server's HANDSET_SIP_TRACE). Must not throw. */
export type TransportTrace = (direction: 'in' | 'out', data: Buffer, flow: Flow) => void;

/** Abuse limits of a transport. Every field has a default (DEFAULT_TRANSPORT_LIMITS). */
export interface TransportLimits {
  /** Largest SIP message in bytes: bigger UDP datagrams are dropped, a stream or WebSocket sending one is closed. Default 65535. */
  readonly maxMessageSize: number;
  /** Largest header section on a TCP/TLS stream in bytes; a stream exceeding it is closed. Default 16384. */
  readonly maxHeaderSize: number;
  /** Inbound connections allowed at once from one IP address; excess ones are closed immediately. Default 64. */
  readonly maxConnectionsPerIp: number;
  /** A connection not marked registered is closed after this long without traffic in or out. Default 120000 (120 s). */
  readonly idleTimeoutMs: number;
  /** Bytes queued towards a peer that does not read before its connection is dropped. Default 1 MiB. */
  readonly maxWriteBuffer: number;
  /** An outbound TCP/TLS connection attempt (including the TLS handshake) fails after this long. Default 10000. */
  readonly connectTimeoutMs: number;
}

/** Limits used where an option is not given. */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  maxMessageSize: 65535,
  maxHeaderSize: 16384,
  maxConnectionsPerIp: 64,
  idleTimeoutMs: 120_000,
  maxWriteBuffer: 1024 * 1024,
  connectTimeoutMs: 10_000,
};

/** Options every transport factory takes. */
export interface TransportOptions {
  /** Receives messages and flow closures. */
  readonly delegate: TransportDelegate;
  readonly logger?: TransportLogger | undefined;
  readonly limits?: Partial<TransportLimits> | undefined;
  readonly trace?: TransportTrace | undefined;
}

/** Options of a transport that binds its own socket. Port 0 picks a free port (see `local`). */
export interface ListenOptions extends TransportOptions {
  /** Address to bind, IPv4 or IPv6 without brackets ('0.0.0.0', '::', '127.0.0.1', '::1'). */
  readonly host: string;
  readonly port: number;
}

/** A logger that drops everything, for when none is given. */
export const SILENT_LOGGER: TransportLogger = {
  debug: () => {},
  warn: () => {},
};

/** Fills in default limits. */
export function resolveLimits(limits: Partial<TransportLimits> | undefined): TransportLimits {
  return { ...DEFAULT_TRANSPORT_LIMITS, ...limits };
}
