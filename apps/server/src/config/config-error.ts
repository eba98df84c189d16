/** Codes a {@link ConfigError} can carry. */
export type ConfigErrorCode = 'INVALID_ENV' | 'SECRET_KEY' | 'TLS_MATERIAL';

/** A configuration problem the operator must fix; the message names the variable or file. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
