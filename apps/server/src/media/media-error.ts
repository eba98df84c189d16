/** Codes a {@link MediaError} can carry. */
export type MediaErrorCode =
  /** A bencoded message that does not parse. */
  | 'BENCODE'
  /** rtpengine did not answer in time (after every retry). */
  | 'TIMEOUT'
  /** rtpengine answered `result: error` (its `error-reason` is the message). */
  | 'REFUSED'
  /** No rtpengine is configured, installed or alive. */
  | 'UNAVAILABLE'
  /** The client was closed. */
  | 'CLOSED';

/** A media-plane failure: the proxy turns it into a 488 with a Reason, never a crash. */
export class MediaError extends Error {
  override readonly name = 'MediaError';

  constructor(
    readonly code: MediaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
