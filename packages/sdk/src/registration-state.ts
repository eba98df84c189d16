/**
 * The phone's registration with the server.
 *
 * ```
 * Unregistered --register()--> Registering --200--> Registered --unregister()--> Unregistered
 *                                   \--4xx/timeout--> Failed --register()--> Registering
 * Registered --WebSocket lost--> Registering (re-REGISTER after the reconnect)
 * ```
 */
export enum RegistrationState {
  Unregistered = 'unregistered',
  Registering = 'registering',
  Registered = 'registered',
  Failed = 'failed',
}

/** The WebSocket to the server. `Reconnecting` means lost and waiting on the reconnect policy. */
export enum ConnectionState {
  Disconnected = 'disconnected',
  Connecting = 'connecting',
  Connected = 'connected',
  Reconnecting = 'reconnecting',
}
