/** Codes a {@link StoreError} can carry. */
export type StoreErrorCode = 'LOCKED' | 'MIGRATION_FAILED' | 'SCHEMA_TOO_NEW' | 'CONNECT_FAILED' | 'KEY_MISMATCH';

/** The database could not be opened or migrated. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
