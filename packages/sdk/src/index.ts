/**
 * @handset/sdk: a typed browser softphone over JsSIP 3.13 (Phone, Call), and the iframe embed
 * (mount, exposeToParent). The IIFE bundle exposes all of this as the global `Handset`.
 */
export { Phone, type PhoneOptions, type PhoneEvents } from './phone.js';
export {
  Call,
  type CallEvents,
  type CallEnd,
  type CallRecord,
  type DtmfTone,
  type DtmfTransport,
  type HoldState,
  type MuteState,
} from './call.js';
export { CallState } from './call-state.js';
export { RegistrationState, ConnectionState } from './registration-state.js';
export { HandsetError, ErrorReason } from './handset-error.js';
export {
  ExponentialBackoffPolicy,
  type ReconnectPolicy,
  type ReconnectContext,
  type BackoffOptions,
} from './reconnect-policy.js';
export { DeviceManager, type MediaDevice, type DeviceSelection } from './device-manager.js';
export { summarizeStats, type CallStats, type CallQuality, type RtpCounters } from './call-quality.js';
export { fetchIceServers, ICE_SERVERS_PATH, type FetchIceServersOptions } from './ice-servers.js';
export type { NetworkEnvironment } from './network-watcher.js';
export type { Clock } from './clock.js';
export { mount, EmbeddedPhone, type MountOptions, type EmbeddedPhoneEvents, type CallRef } from './embed/mount.js';
export { exposeToParent, type ExposeOptions, type PhoneSource } from './embed/expose-to-parent.js';
export type { EmbedConfig, CallSnapshot, PhoneSnapshot } from './embed/embed-protocol.js';
export { type CallFailure, callFailureOf } from './call-failure.js';
