/** Why an SDK operation failed (LiveKit style: a closed set callers can switch on). */
export enum ErrorReason {
  /** The method does not apply in the current state (answer an outgoing call, hold a ringing one). */
  InvalidState = 'invalid-state',
  /** An argument is malformed (empty target, bad DTMF tone, unknown device id). */
  InvalidArgument = 'invalid-argument',
  /** The WebSocket to the server could not be opened or was lost. */
  ConnectionFailed = 'connection-failed',
  /** The server rejected the credentials (401/403 after the digest challenge). */
  AuthenticationFailed = 'authentication-failed',
  /** REGISTER failed for another reason (status in `statusCode`). */
  RegistrationFailed = 'registration-failed',
  /** The call was rejected or could not be set up (status in `statusCode`). */
  CallFailed = 'call-failed',
  /** The microphone or camera could not be opened. */
  MediaFailed = 'media-failed',
  /** The operation did not finish in time. */
  Timeout = 'timeout',
  /** The embed peer (iframe or parent) answered with an error or did not answer. */
  EmbedFailed = 'embed-failed',
  /** The phone was closed while the operation was pending. */
  Closed = 'closed',
}

/** The one error type the SDK throws and rejects with; `reason` says why. */
export class HandsetError extends Error {
  override readonly name = 'HandsetError';

  constructor(
    readonly reason: ErrorReason,
    message: string,
    /** SIP status code when the server answered (403, 486, ...). */
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The method cannot run in the current state. */
  static invalidState(what: string, state: string): HandsetError {
    return new HandsetError(ErrorReason.InvalidState, `cannot ${what} in state ${state}`);
  }

  /** An argument is malformed. */
  static invalidArgument(message: string): HandsetError {
    return new HandsetError(ErrorReason.InvalidArgument, message);
  }

  /** The WebSocket could not be opened or was lost. */
  static connectionFailed(message = 'connection to the server failed'): HandsetError {
    return new HandsetError(ErrorReason.ConnectionFailed, message);
  }

  /** REGISTER failed; 401/403 become {@link ErrorReason.AuthenticationFailed}. */
  static registrationFailed(cause: string, statusCode?: number): HandsetError {
    const auth = statusCode === 401 || statusCode === 403 || /auth/i.test(cause);
    return new HandsetError(
      auth ? ErrorReason.AuthenticationFailed : ErrorReason.RegistrationFailed,
      `registration failed: ${cause}${statusCode ? ` (${statusCode})` : ''}`,
      statusCode,
    );
  }

  /** A call could not be set up. */
  static callFailed(cause: string, statusCode?: number): HandsetError {
    return new HandsetError(ErrorReason.CallFailed, `call failed: ${cause}`, statusCode);
  }

  /** getUserMedia failed. */
  static mediaFailed(cause: unknown): HandsetError {
    return new HandsetError(
      ErrorReason.MediaFailed,
      `could not open the microphone or camera: ${String(cause)}`,
      undefined,
      {
        cause,
      },
    );
  }

  /** An operation timed out. */
  static timeout(what: string, ms: number): HandsetError {
    return new HandsetError(ErrorReason.Timeout, `${what} did not finish within ${ms} ms`);
  }

  /** The embed peer answered with an error or not at all. */
  static embedFailed(message: string): HandsetError {
    return new HandsetError(ErrorReason.EmbedFailed, message);
  }

  /** The phone was closed while waiting. */
  static closed(): HandsetError {
    return new HandsetError(ErrorReason.Closed, 'the phone was closed');
  }
}
