import type {
  CallState as SdkCallState,
  ConnectionState as SdkConnectionState,
  RegistrationState as SdkRegistrationState,
} from '@handset/sdk';

// The SDK's state enums by name, as plain values typed as the SDK's own: reading them does not
// load the SDK, whose chunk comes after the first screen (sdk-loader.ts). sdk-states.test.ts
// checks them against the SDK.

/** The SDK's CallState values. */
export const CallState = {
  Calling: 'calling' as SdkCallState.Calling,
  Early: 'early' as SdkCallState.Early,
  Ringing: 'ringing' as SdkCallState.Ringing,
  Answering: 'answering' as SdkCallState.Answering,
  Active: 'active' as SdkCallState.Active,
  Ended: 'ended' as SdkCallState.Ended,
} as const;
/** A call's state. */
export type CallState = SdkCallState;

/** The SDK's RegistrationState values. */
export const RegistrationState = {
  Unregistered: 'unregistered' as SdkRegistrationState.Unregistered,
  Registering: 'registering' as SdkRegistrationState.Registering,
  Registered: 'registered' as SdkRegistrationState.Registered,
  Failed: 'failed' as SdkRegistrationState.Failed,
} as const;
/** The registration's state. */
export type RegistrationState = SdkRegistrationState;

/** The SDK's ConnectionState values. */
export const ConnectionState = {
  Disconnected: 'disconnected' as SdkConnectionState.Disconnected,
  Connecting: 'connecting' as SdkConnectionState.Connecting,
  Connected: 'connected' as SdkConnectionState.Connected,
  Reconnecting: 'reconnecting' as SdkConnectionState.Reconnecting,
} as const;
/** The WebSocket's state. */
export type ConnectionState = SdkConnectionState;
