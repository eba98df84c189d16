/**
 * The `sessiontalk.*` settings (the seed's table), declared once with zod schemas, defaults and
 * descriptions, plus the cross-field rules the registry cannot express per key. Values arrive as
 * JSON from the API or as strings from the CLI, so the schemas accept both ("true", "172800").
 */
import { z } from 'zod';

/** How a setting is declared; matches what SettingsRegistry.define takes. */
export interface SettingDefinition<T> {
  schema: z.ZodType<T>;
  default: T;
  description: string;
  /** 'domain': a default for every domain, overridable per domain. */
  scope: 'domain';
}

const flag = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z
    .enum(['enabled', 'disabled'], { error: 'must be Enabled or Disabled' })
    .transform((v) => (v === 'enabled' ? 'Enabled' : 'Disabled')),
);
const seconds = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(min, `must be at least ${min} seconds`)
    .max(max, `must be at most ${max} seconds`);
/** A boolean setting that also accepts true/false/1/0/yes/no as text (the CLI's values). */
export const booleanSetting = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    return s === 'true' || s === '1' || s === 'yes' ? true : s === 'false' || s === '0' || s === 'no' ? false : v;
  },
  z.boolean({ error: 'must be true or false' }),
);

/** Transports a SessionTalk account can use (the app wants them upper-cased on the wire). */
export const SESSIONTALK_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
/** One of {@link SESSIONTALK_TRANSPORTS}. */
export type SessionTalkTransport = (typeof SESSIONTALK_TRANSPORTS)[number];
/** The app's two-valued feature flags. */
export type SessionTalkFlag = 'Enabled' | 'Disabled';

/** Every `sessiontalk.*` key with its schema, default and meaning. */
export const SESSIONTALK_SETTINGS = {
  'sessiontalk.provider_id': {
    schema: z
      .string()
      .trim()
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-" (it is a field of the QR text)'),
    default: '',
    description: 'SessionCloud provider id, the last field of the QR text (blank for a white-label app)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'sessiontalk.max_activations': {
    schema: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be 0 (unlimited) or more')
      .max(10_000, 'must be at most 10000'),
    default: 1,
    description:
      'Most apps activated per extension, counted across the devices that carry it as a line (0 = unlimited)',
    scope: 'domain',
  } satisfies SettingDefinition<number>,
  'sessiontalk.qr_expiration': {
    schema: seconds(60, 315_360_000),
    default: 172_800,
    description: 'How long an activation code (QR) can activate an app, in seconds; at most key_rotation',
    scope: 'domain',
  } satisfies SettingDefinition<number>,
  'sessiontalk.transport': {
    schema: z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(SESSIONTALK_TRANSPORTS, { error: 'must be udp, tcp or tls' }),
    ),
    default: 'udp',
    description: 'SIP transport of the line of a newly activated app (editable per line afterwards)',
    scope: 'domain',
  } satisfies SettingDefinition<SessionTalkTransport>,
  'sessiontalk.key_rotation': {
    schema: seconds(3600, 315_360_000),
    default: 2_492_000,
    description: 'Activation-code key rotation period in seconds; the upper bound of qr_expiration',
    scope: 'domain',
  } satisfies SettingDefinition<number>,
  'sessiontalk.windows_softphone': {
    schema: booleanSetting,
    default: true,
    description: 'Offer the Windows softphone installation link beside the QR code',
    scope: 'domain',
  } satisfies SettingDefinition<boolean>,
  'sessiontalk.windows_bundle_url': {
    schema: z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })]),
    default: '',
    description: 'URL of the SessionTalk Windows .msixbundle the served .appinstaller points at',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'sessiontalk.windows_bundle_version': {
    schema: z.string().regex(/^\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}$/, 'must be a four-part version such as 1.0.0.0'),
    default: '1.0.0.0',
    description: 'Version of that bundle, as the .appinstaller document states it',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'sessiontalk.srtp': {
    schema: flag,
    default: 'Disabled',
    description: 'Enabled or Disabled: SRTP in the app',
    scope: 'domain',
  } satisfies SettingDefinition<SessionTalkFlag>,
  'sessiontalk.video': {
    schema: flag,
    default: 'Disabled',
    description: 'Enabled or Disabled: video calling in the app',
    scope: 'domain',
  } satisfies SettingDefinition<SessionTalkFlag>,
  'sessiontalk.callrecording': {
    schema: flag,
    default: 'Disabled',
    description: 'Enabled or Disabled: users may record calls in the app',
    scope: 'domain',
  } satisfies SettingDefinition<SessionTalkFlag>,
} as const;

/** A `sessiontalk.*` key. */
export type SessionTalkSettingKey = keyof typeof SESSIONTALK_SETTINGS;

/** The settings of one domain, resolved and checked. */
export interface SessionTalkSettings {
  providerId: string;
  maxActivations: number;
  qrExpirationS: number;
  transport: SessionTalkTransport;
  keyRotationS: number;
  windowsSoftphone: boolean;
  windowsBundleUrl: string;
  windowsBundleVersion: string;
  srtp: SessionTalkFlag;
  video: SessionTalkFlag;
  callrecording: SessionTalkFlag;
}

/** Where provisioning reads its settings from: the settings service, or an in-memory stand-in. */
export interface ProvisioningSettings {
  /** The resolved settings for `domainId` (defaults < server-wide < domain overrides). */
  get(domainId: string): Promise<SessionTalkSettings>;
}

/** A value refused, with a message that names the key and the rule. */
export class SettingsValueError extends Error {
  override readonly name = 'SettingsValueError';
  readonly code = 'INVALID_SETTING';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** Validates one value for `key`; returns the normalized value or throws {@link SettingsValueError}. */
export function parseSessionTalkSetting(key: string, value: unknown): unknown {
  if (!isSessionTalkKey(key)) throw new SettingsValueError(key, `unknown setting ${key}`);
  const parsed = SESSIONTALK_SETTINGS[key].schema.safeParse(value);
  if (!parsed.success) throw new SettingsValueError(key, `${key} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  return parsed.data;
}

/** True for a key declared in {@link SESSIONTALK_SETTINGS}. */
export function isSessionTalkKey(key: string): key is SessionTalkSettingKey {
  return Object.hasOwn(SESSIONTALK_SETTINGS, key);
}

/**
 * Builds the resolved settings from a lookup of raw values (undefined: use the default), checking
 * each value and then the rules across keys. Throws {@link SettingsValueError}.
 */
export function resolveSessionTalkSettings(lookup: (key: SessionTalkSettingKey) => unknown): SessionTalkSettings {
  const value = <K extends SessionTalkSettingKey>(key: K) => {
    const raw = lookup(key);
    return (
      raw === undefined ? SESSIONTALK_SETTINGS[key].default : parseSessionTalkSetting(key, raw)
    ) as (typeof SESSIONTALK_SETTINGS)[K]['default'];
  };
  const settings: SessionTalkSettings = {
    providerId: value('sessiontalk.provider_id'),
    maxActivations: value('sessiontalk.max_activations'),
    qrExpirationS: value('sessiontalk.qr_expiration'),
    transport: value('sessiontalk.transport'),
    keyRotationS: value('sessiontalk.key_rotation'),
    windowsSoftphone: value('sessiontalk.windows_softphone'),
    windowsBundleUrl: value('sessiontalk.windows_bundle_url'),
    windowsBundleVersion: value('sessiontalk.windows_bundle_version'),
    srtp: value('sessiontalk.srtp'),
    video: value('sessiontalk.video'),
    callrecording: value('sessiontalk.callrecording'),
  };
  checkSessionTalkSettings(settings);
  return settings;
}

/** The rules across keys; throws {@link SettingsValueError} naming both keys. */
export function checkSessionTalkSettings(s: Pick<SessionTalkSettings, 'qrExpirationS' | 'keyRotationS'>): void {
  // A code is sealed with the key of the period it was issued in and opens only while that key is
  // current or previous, so a lifetime beyond one period would outlive its key.
  if (s.qrExpirationS > s.keyRotationS) {
    throw new SettingsValueError(
      'sessiontalk.qr_expiration',
      `sessiontalk.qr_expiration (${s.qrExpirationS} s) must not exceed sessiontalk.key_rotation (${s.keyRotationS} s), its upper bound; raise key_rotation first`,
    );
  }
}

/** Defaults for every key, as resolved settings. */
export const DEFAULT_SESSIONTALK_SETTINGS: SessionTalkSettings = resolveSessionTalkSettings(() => undefined);
