/** Why a message could not be parsed or is not acceptable at the protocol layer. */
export type SipErrorCode = 'PARSE_ERROR' | 'VERSION_NOT_SUPPORTED' | 'TOO_LARGE';

/** A malformed or unacceptable SIP message. `status` is the response to send when one can be built. */
export class SipParseError extends Error {
  readonly code: SipErrorCode;
  /** The SIP status a server answers with (400, 505, 513), when the message is a request it can answer. */
  readonly status: number;
  constructor(message: string, options: { code?: SipErrorCode; status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SipParseError';
    this.code = options.code ?? 'PARSE_ERROR';
    this.status = options.status ?? 400;
  }
}
