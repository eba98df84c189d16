/** Codes a {@link DirectoryError} can carry. */
export type DirectoryErrorCode =
  | 'INVALID_INPUT'
  | 'DOMAIN_NOT_FOUND'
  | 'DUPLICATE_DOMAIN'
  | 'DUPLICATE_EXTENSION'
  | 'DUPLICATE_EMAIL'
  | 'CSV_LINE'
  | 'CREDENTIALS_UNREADABLE'
  /** Authenticated, but the principal's role or tenant does not allow this. */
  | 'FORBIDDEN'
  /** No such record, or one the principal may not see (never tells the two apart). */
  | 'NOT_FOUND'
  /** Missing, wrong, revoked or expired credentials. */
  | 'UNAUTHENTICATED'
  /** Too many failed sign-ins: locked for a while. */
  | 'RATE_LIMITED'
  /** Well-formed input that breaks a rule (per-field detail in `fields`). */
  | 'VALIDATION'
  /** A change that clashes with existing data (other than a duplicate extension or email). */
  | 'CONFLICT'
  /** An agent script failed (time or memory limit, a throw, an answer that is not `{__: ...}`). */
  | 'SCRIPT_FAILED';

/** A directory operation refused; the message is one line fit for an operator. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  /** For CSV_LINE: the 1-based line of the CSV text at fault. */
  readonly line: number | undefined;
  /** For CSV_LINE: what was wrong with that line (INVALID_INPUT, DUPLICATE_EXTENSION, ...). */
  readonly reason: DirectoryErrorCode | undefined;
  /** For VALIDATION: the message for each bad field, by dotted path. */
  readonly fields: Record<string, string> | undefined;

  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
    options: { cause?: unknown; line?: number; reason?: DirectoryErrorCode; fields?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.line = options.line;
    this.reason = options.reason;
    this.fields = options.fields;
  }

  /** The principal may not do this. */
  static forbidden(message = 'not allowed for your role'): DirectoryError {
    return new DirectoryError('FORBIDDEN', message);
  }

  /** Nothing by that id that the principal may see. */
  static notFound(resource: string): DirectoryError {
    return new DirectoryError('NOT_FOUND', `no such ${resource}`);
  }

  /** A field-level validation failure. */
  static validation(fields: Record<string, string>): DirectoryError {
    const summary = Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    return new DirectoryError('VALIDATION', `invalid input: ${summary}`, { fields });
  }

  /** An error about one CSV line: the message starts with "line N: ". */
  static atLine(line: number, reason: DirectoryErrorCode, message: string): DirectoryError {
    return new DirectoryError('CSV_LINE', `line ${line}: ${message}`, { line, reason });
  }
}
