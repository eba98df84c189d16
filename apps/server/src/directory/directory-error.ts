/** Codes a {@link DirectoryError} can carry. */
export type DirectoryErrorCode =
  | 'INVALID_INPUT'
  | 'DOMAIN_NOT_FOUND'
  | 'DUPLICATE_DOMAIN'
  | 'DUPLICATE_EXTENSION'
  | 'DUPLICATE_EMAIL'
  | 'CSV_LINE'
  | 'CREDENTIALS_UNREADABLE';

/** A directory operation refused; the message is one line fit for an operator. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  /** For CSV_LINE: the 1-based line of the CSV text at fault. */
  readonly line: number | undefined;
  /** For CSV_LINE: what was wrong with that line (INVALID_INPUT, DUPLICATE_EXTENSION, ...). */
  readonly reason: DirectoryErrorCode | undefined;

  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
    options: { cause?: unknown; line?: number; reason?: DirectoryErrorCode } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.line = options.line;
    this.reason = options.reason;
  }

  /** An error about one CSV line: the message starts with "line N: ". */
  static atLine(line: number, reason: DirectoryErrorCode, message: string): DirectoryError {
    return new DirectoryError('CSV_LINE', `line ${line}: ${message}`, { line, reason });
  }
}
