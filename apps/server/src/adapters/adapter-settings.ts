/**
 * The `adapters.*` settings: how long a provisioning code lives, and the per-domain values of the
 * configurations sent to adapter-provisioned phones. Declared once in the shared registry.
 */
import { z } from 'zod';
import type { SettingDefinition, SettingsRegistry } from '../directory/settings-registry.js';
import type { SettingsService } from '../directory/settings-service.js';

const short = (max: number, pattern: RegExp, what: string) =>
  z.string().trim().max(max, `must be at most ${max} characters`).regex(pattern, what);
const host = short(253, /^[A-Za-z0-9.:[\]_-]*$/, 'must be a host name or address (or empty)');

/** Every `adapters.*` key with its schema, default and meaning. */
export const ADAPTER_SETTINGS = {
  'adapters.code_ttl_s': {
    schema: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(10, 'must be at least 10')
      .max(604_800, 'must be at most 604800 (a week)'),
    default: 3600,
    description: 'How long the single-use code of a ProvisioningPhone can identify the phone, in seconds',
    scope: 'domain',
  } satisfies SettingDefinition<number>,
  'adapters.coder': {
    schema: short(200, /^[A-Za-z0-9/._-]+(,[A-Za-z0-9/._-]+)*$/, 'must be codec names separated by commas'),
    default: 'G722,PCMU,PCMA',
    description: 'Codecs of adapter-provisioned phones, most preferred first (the PHONE config)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'adapters.sip_transport': {
    schema: z.enum(['udp', 'tcp', 'tls'], { error: 'must be udp, tcp or tls' }),
    default: 'udp',
    description: 'SIP transport of adapter-provisioned phones (the SIP config)',
    scope: 'domain',
  } satisfies SettingDefinition<'udp' | 'tcp' | 'tls'>,
  'adapters.tls_profile': {
    schema: short(64, /^[A-Za-z0-9._-]+$/, 'must be a profile name (letters, digits, ".", "_", "-")'),
    default: 'default',
    description: 'TLS profile name sent to adapter-provisioned phones (the TLS_PROFILE config)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'adapters.tz': {
    schema: short(64, /^[A-Za-z0-9/_+-]+$/, 'must be an IANA time zone such as Europe/Berlin'),
    default: 'UTC',
    description: 'Time zone of adapter-provisioned phones (the NTP config)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'adapters.ntp1': {
    schema: host,
    default: 'pool.ntp.org',
    description: 'First NTP server of adapter-provisioned phones',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'adapters.ntp2': {
    schema: host,
    default: '',
    description: 'Second NTP server of adapter-provisioned phones (empty: none)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
} as const;

/** The resolved adapter settings of one domain. */
export interface AdapterSettings {
  codeTtlS: number;
  coder: string;
  sipTransport: 'udp' | 'tcp' | 'tls';
  tlsProfile: string;
  tz: string;
  ntp1: string;
  ntp2: string;
}

/** Declares every `adapters.*` key in the settings registry. */
export function defineAdapterSettings(registry: SettingsRegistry): void {
  for (const [key, def] of Object.entries(ADAPTER_SETTINGS)) registry.define<unknown>(key, def);
}

/** Reads the adapter settings of a domain through the settings service. */
export async function readAdapterSettings(
  settings: Pick<SettingsService, 'get'>,
  domainId: string,
): Promise<AdapterSettings> {
  const get = <T>(key: keyof typeof ADAPTER_SETTINGS) => settings.get<T>(key, domainId);
  return {
    codeTtlS: await get<number>('adapters.code_ttl_s'),
    coder: await get<string>('adapters.coder'),
    sipTransport: await get<'udp' | 'tcp' | 'tls'>('adapters.sip_transport'),
    tlsProfile: await get<string>('adapters.tls_profile'),
    tz: await get<string>('adapters.tz'),
    ntp1: await get<string>('adapters.ntp1'),
    ntp2: await get<string>('adapters.ntp2'),
  };
}
