/** Why the transaction layer refused an operation. */
export type TransactionErrorCode =
  /** A state change the state machine does not allow (a bug in the caller or the layer). */
  | 'INVALID_TRANSITION'
  /** The operation is not possible in the transaction's current state (e.g. a second final response). */
  | 'INVALID_STATE'
  /** A client request without a top Via branch carrying the RFC 3261 magic cookie. */
  | 'MISSING_BRANCH'
  /** A client transaction with that branch and method already exists. */
  | 'DUPLICATE_TRANSACTION'
  /** ACK is never sent through a client transaction (RFC 3261 §17.1.1.3, §13.2.2.4). */
  | 'NOT_A_TRANSACTION'
  /** The layer has been closed. */
  | 'CLOSED'
  /** A timer option that is not a positive number. */
  | 'INVALID_OPTION';

/** An operation the transaction layer refused. */
export class TransactionError extends Error {
  readonly code: TransactionErrorCode;
  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransactionError';
    this.code = code;
  }
}
