/** Codes a {@link ProvisioningError} can carry. */
export type ProvisioningErrorCode =
  /** Not a code Handset issued for this domain: malformed, truncated, tampered or foreign. */
  | 'CODE_INVALID'
  /** Authentic but past its expiry. */
  | 'CODE_EXPIRED'
  /** Sealed with a key older than the previous one. */
  | 'KEY_RETIRED'
  /** The viewer may not activate that extension (or it does not exist: the two look the same). */
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'MAX_ACTIVATIONS'
  /** The record exists already (a desk phone's MAC). */
  | 'CONFLICT';

/** A provisioning operation refused; the message is one line fit for the user or operator. */
export class ProvisioningError extends Error {
  override readonly name = 'ProvisioningError';
  constructor(
    readonly code: ProvisioningErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
