/**
 * The device-adapter protocol (docs/device-adapters.md): the JSON frames of the provider session
 * (`/api/v1/adapters`) and of the configuration session (`/api/v1/sysclients`). Shared by the
 * Handset server and by adapters, so both sides agree on every name.
 */

/** Path of the provider session WebSocket. */
export const PROVIDER_PATH = '/api/v1/adapters';
/** Path of the configuration session WebSocket (one per phone). */
export const SYSCLIENT_PATH = '/api/v1/sysclients';
/** The API an adapter registers to receive `ProvisioningPhone`. */
export const PROVISIONING_API = 'handset.provisioning';

/** adapter -> Handset: publish this adapter as a provisioning provider. */
export interface RegisterFrame {
  mt: 'Register';
  apis: { [PROVISIONING_API]: { title: string } };
}

/** Handset -> adapter: the answer to Register. */
export interface RegisteredFrame {
  mt: 'Registered';
  id: string;
}

/** Handset -> adapter: provision this phone (secrets encrypted with the adapter's API token). */
export interface ProvisioningPhoneFrame {
  mt: 'ProvisioningPhone';
  /** The provisioning job; echo it in the result. */
  id: string;
  /** 12 lower-case hex digits. */
  mac: string;
  /** Single-use code for the first Identify of this phone (expires). */
  code: string;
  /** Hardware id: `handset-<mac>`. */
  hwid: string;
  /** The first line's extension. */
  username: string;
  /** The first line's display name (the extension when it has none). */
  cn: string;
  /** The SIP domain. */
  domain: string;
  /** Host name of Handset (SIP server and HTTP). */
  dns: string;
  /** Hex salt of `password` (16 bytes). */
  seed: string;
  /** The first line's SIP password, encrypted (see {@link encryptSecret}). */
  password: string;
}

/** adapter -> Handset: the phone is done (or failed); the next ProvisioningPhone may follow. */
export interface ProvisioningPhoneResultFrame {
  mt: 'ProvisioningPhoneResult';
  id: string;
  result: 'ok' | 'error';
  error?: string;
}

/** Handset -> adapter, first frame of a configuration session. */
export interface HelloFrame {
  mt: 'Hello';
  /** Hex; used once, by the next Identify. */
  nonce: string;
}

/** adapter -> Handset: which phone this session configures, with a code or a proof of the password. */
export interface IdentifyFrame {
  mt: 'Identify';
  mac: string;
  product: string;
  version: string;
  info: { type: 'PHONE' };
  /** First contact: the code of ProvisioningPhone. */
  code?: string;
  /** Reconnect: hex(HMAC-SHA256(key = the device password, data = the nonce as sent)). */
  auth?: string;
}

/** Handset -> adapter after the first Identify: the per-device password, encrypted with the code. */
export interface SetManagerPasswordFrame {
  mt: 'SetManagerPassword';
  password: string;
  seed: string;
}

/** Codec preferences of the phone. */
export interface PhoneConfig {
  type: 'PHONE';
  /** Comma-separated codec names in order of preference, e.g. `G722,PCMU,PCMA`. */
  coder: string;
}

/** STUN/TURN of the phone. */
export interface MediaConfig {
  type: 'MEDIA';
  stunServer: string;
  turnServer: string;
  turnUser: string;
  /** Encrypted with the device password and `turnSeed`; empty when there is no TURN. */
  turnPassword: string;
  turnSeed: string;
}

/** Which TLS profile the phone uses for SIP over TLS and HTTPS. */
export interface TlsProfileConfig {
  type: 'TLS_PROFILE';
  profile: string;
}

/** Time of the phone. */
export interface NtpConfig {
  type: 'NTP';
  tz: string;
  ntp1: string;
  ntp2: string;
}

/** One SIP line (account) of the phone. */
export interface SipLineConfig {
  line: number;
  user: string;
  authUser: string;
  domain: string;
  displayName: string;
  /** Encrypted with the device password and `seed`. */
  password: string;
  seed: string;
}

/** The SIP registrar/proxy and the lines. */
export interface SipConfig {
  type: 'SIP';
  server: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  lines: SipLineConfig[];
}

/** One typed configuration. */
export type DeviceConfig = PhoneConfig | MediaConfig | TlsProfileConfig | NtpConfig | SipConfig;
/** The configuration types, in the order Handset sends them. */
export const CONFIG_TYPES = ['PHONE', 'MEDIA', 'TLS_PROFILE', 'NTP', 'SIP'] as const;
/** One configuration type. */
export type ConfigType = (typeof CONFIG_TYPES)[number];

/** Handset -> adapter: one configuration; `last: true` ends a batch. */
export interface SetConfigFrame {
  mt: 'SetConfig';
  config: DeviceConfig;
  last: boolean;
}

/** Either side: something was refused. */
export interface ErrorFrame {
  mt: 'Error';
  code: AdapterErrorCode;
  message: string;
}

/** Codes of Error frames. */
export type AdapterErrorCode =
  | 'BAD_JSON'
  | 'BAD_FRAME'
  | 'UNKNOWN_MT'
  | 'NOT_REGISTERED'
  | 'ALREADY_IDENTIFIED'
  | 'NOT_IDENTIFIED'
  | 'IDENTIFY_FAILED'
  | 'CODE_EXPIRED'
  | 'FORBIDDEN'
  | 'UNKNOWN_JOB'
  | 'RATE_LIMITED'
  | 'REPLACED'
  | 'UNAVAILABLE';

/** Frames Handset sends on the provider session. */
export type ProviderServerFrame = RegisteredFrame | ProvisioningPhoneFrame | ErrorFrame;
/** Frames Handset sends on a configuration session. */
export type SysclientServerFrame = HelloFrame | SetManagerPasswordFrame | SetConfigFrame | ErrorFrame;

/** A MAC in the protocol's form (12 lower-case hex digits), or undefined when it is not a MAC. */
export function normalizeMac(mac: string): string | undefined {
  const hex = mac.trim().toLowerCase().replace(/[:.-]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? hex : undefined;
}
