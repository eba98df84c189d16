import type { AdapterErrorCode } from '@handset/device-adapter';

/** A frame refused on an adapter WebSocket; becomes an `{"mt":"Error"}` frame with this code. */
export class AdapterProtocolError extends Error {
  override readonly name = 'AdapterProtocolError';

  constructor(
    readonly code: AdapterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
