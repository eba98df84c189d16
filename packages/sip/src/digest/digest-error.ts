/** Why a digest operation refused its input (programmer or configuration errors, and the client helper's challenge checks). */
export type DigestErrorCode =
  | 'DIGEST_MALFORMED_CHALLENGE'
  | 'DIGEST_UNSUPPORTED_ALGORITHM'
  | 'DIGEST_UNSUPPORTED_QOP'
  | 'DIGEST_INVALID_VALUE'
  | 'DIGEST_INVALID_OPTION';

/** An error from the digest library, with a machine-readable `code`. */
export class DigestError extends Error {
  readonly code: DigestErrorCode;
  constructor(code: DigestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DigestError';
    this.code = code;
  }
}
