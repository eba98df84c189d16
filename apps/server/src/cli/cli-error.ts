/** Codes a {@link CliError} can carry. */
export type CliErrorCode = 'USAGE' | 'FILE' | 'SERVER_UNREACHABLE' | 'REMOTE';

/** A CLI failure reported as one line on stderr with exit status 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
