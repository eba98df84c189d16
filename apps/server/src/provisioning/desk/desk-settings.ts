/**
 * The `provisioning.*` settings of desk phones: the domain's profile (time zone, NTP, language,
 * codecs, dial plan, ring tone) and its access rules (HTTP credentials, CIDR allowlist, auto-insert
 * of unknown phones). Per domain, with server-wide defaults; values arrive as JSON from the API or
 * as strings from the CLI, so list settings also accept a comma-separated string.
 */
import { BlockList, isIP } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SettingsRegistry } from '../../directory/settings-registry.js';
import type { SettingsService } from '../../directory/settings-service.js';
import type { DeskOverrides } from '../provisioning-tables.js';
import { booleanSetting } from '../sessiontalk-settings.js';
import type { DeskProfile } from './desk-config.js';

const list = <T extends z.ZodType<string>>(item: T, max: number) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x.length > 0)
        : v,
    z.array(item).max(max, `at most ${max} entries`),
  );
/** One line of text without control characters (it ends up in the phone's file). */
const line = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');

/** Whether `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Codecs a desk-phone profile may name. */
export const DESK_CODECS = ['PCMU', 'PCMA', 'G722', 'G729', 'opus'] as const;

/** Schemas of the profile fields, shared by the settings and a device's overrides. */
export const deskProfileSchemas = {
  timezone: line(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  ntpServer: line(253).regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or address'),
  language: line(8).regex(/^[a-z]{2}$/, 'must be a two-letter language code such as en'),
  codecs: list(z.enum(DESK_CODECS, { error: `must be among ${DESK_CODECS.join(', ')}` }), 8).refine(
    (c) => c.length > 0,
    'name at least one codec',
  ),
  dialPlan: line(512),
  ringtone: line(64),
};

/** A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address. */
export function parseCidr(s: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, bits, extra] = s.split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** Every `provisioning.*` key. */
export const DESK_SETTINGS = {
  'provisioning.http_username': {
    schema: line(128),
    default: '',
    description: 'User name desk phones give (HTTP digest; basic over HTTPS only); empty with an empty password = none',
    scope: 'domain',
  },
  'provisioning.http_password': {
    schema: line(128),
    default: '',
    description: 'Password desk phones give with provisioning.http_username',
    scope: 'domain',
  },
  'provisioning.allowed_cidrs': {
    schema: list(
      line(64).refine((s) => parseCidr(s) !== undefined, 'must be a CIDR block such as 192.0.2.0/24'),
      100,
    ),
    default: [] as string[],
    description: 'Networks desk phones may fetch from (comma-separated CIDR blocks); empty = any',
    scope: 'domain',
  },
  'provisioning.auto_insert': {
    schema: booleanSetting,
    default: false,
    description:
      'Record an unknown phone asking at this domain\'s host name as a "pending" device for an admin to assign',
    scope: 'domain',
  },
  'provisioning.timezone': {
    schema: deskProfileSchemas.timezone,
    default: 'UTC',
    description: 'Time zone of desk phones (IANA name)',
    scope: 'domain',
  },
  'provisioning.ntp_server': {
    schema: deskProfileSchemas.ntpServer,
    default: 'pool.ntp.org',
    description: 'NTP server of desk phones',
    scope: 'domain',
  },
  'provisioning.language': {
    schema: deskProfileSchemas.language,
    default: 'en',
    description: 'Menu language of desk phones (two-letter code)',
    scope: 'domain',
  },
  'provisioning.codecs': {
    schema: deskProfileSchemas.codecs,
    default: ['G722', 'PCMU', 'PCMA'],
    description: 'Codecs of desk phones, in order of preference (comma-separated)',
    scope: 'domain',
  },
  'provisioning.dial_plan': {
    schema: deskProfileSchemas.dialPlan,
    default: '',
    description: 'Dial plan (digit map such as [2-9]xx|0x.T) of desk phones; empty = the phone default',
    scope: 'domain',
  },
  'provisioning.ringtone': {
    schema: deskProfileSchemas.ringtone,
    default: '',
    description: "Ring tone of desk phones, in the vendor's naming; empty = the phone default",
    scope: 'domain',
  },
  'provisioning.register_expires': {
    schema: z.coerce.number().int().min(60, 'must be at least 60 seconds').max(86_400, 'must be at most 86400 seconds'),
    default: 600,
    description: 'Registration interval desk phones are given, in seconds',
    scope: 'domain',
  },
} as const satisfies Record<string, { schema: z.ZodType; default: unknown; description: string; scope: 'domain' }>;

/** Declares every `provisioning.*` key in the registry (once per registry). */
export function defineDeskSettings(registry: SettingsRegistry): void {
  for (const [key, def] of Object.entries(DESK_SETTINGS)) if (!registry.get(key)) registry.define<unknown>(key, def);
}

/** A domain's desk-phone settings, resolved. */
export interface DeskDomainSettings {
  profile: DeskProfile;
  /** Both set, or undefined: no credentials asked. */
  credentials: { username: string; password: string } | undefined;
  /** undefined: any source may fetch. */
  allowed: BlockList | undefined;
  autoInsert: boolean;
  registerExpiresS: number;
  /** Changes whenever anything above changes (part of the rendered files' cache key). */
  stamp: string;
}

/** The profile with a device's overrides applied. */
export function applyOverrides(profile: DeskProfile, o: DeskOverrides): DeskProfile {
  return {
    timezone: o.timezone ?? profile.timezone,
    ntpServer: o.ntpServer ?? profile.ntpServer,
    language: o.language ?? profile.language,
    codecs: o.codecs ?? profile.codecs,
    dialPlan: o.dialPlan ?? profile.dialPlan,
    ringtone: o.ringtone ?? profile.ringtone,
  };
}

/**
 * Desk-phone settings per domain through the settings service, kept in memory: read once, then
 * again after {@link invalidate} (a change made through Handset) or after `ttlMs` (a change made
 * by another node or straight in the database).
 */
export class DeskSettings {
  readonly #cache = new Map<string, { at: number; value: Promise<DeskDomainSettings> }>();

  constructor(
    private readonly service: Pick<SettingsService, 'get'>,
    private readonly logger: Logger,
    private readonly ttlMs = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The settings of `domainId`. */
  get(domainId: string): Promise<DeskDomainSettings> {
    const now = this.clock();
    const hit = this.#cache.get(domainId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (this.#cache.size > 10_000) this.#cache.clear();
    const value = this.#load(domainId);
    this.#cache.set(domainId, { at: now, value });
    value.catch((err: unknown) => {
      this.#cache.delete(domainId);
      this.logger.error({ err, domainId }, 'desk-phone settings unreadable');
    });
    return value;
  }

  /** Forgets the cached settings (of one domain, or all). */
  invalidate(domainId?: string): void {
    if (domainId === undefined) this.#cache.clear();
    else this.#cache.delete(domainId);
  }

  async #load(domainId: string): Promise<DeskDomainSettings> {
    const get = <K extends keyof typeof DESK_SETTINGS>(k: K) =>
      this.service.get<(typeof DESK_SETTINGS)[K]['default']>(k, domainId);
    const [user, pass, cidrs, autoInsert, timezone, ntpServer, language, codecs, dialPlan, ringtone, expires] =
      await Promise.all([
        get('provisioning.http_username'),
        get('provisioning.http_password'),
        get('provisioning.allowed_cidrs'),
        get('provisioning.auto_insert'),
        get('provisioning.timezone'),
        get('provisioning.ntp_server'),
        get('provisioning.language'),
        get('provisioning.codecs'),
        get('provisioning.dial_plan'),
        get('provisioning.ringtone'),
        get('provisioning.register_expires'),
      ]);
    let allowed: BlockList | undefined;
    if (cidrs.length > 0) {
      allowed = new BlockList();
      for (const c of cidrs) {
        const p = parseCidr(c);
        if (p) allowed.addSubnet(p.address, p.prefix, p.family);
      }
    }
    const profile: DeskProfile = { timezone, ntpServer, language, codecs: [...codecs], dialPlan, ringtone };
    return {
      profile,
      credentials: user !== '' || pass !== '' ? { username: user, password: pass } : undefined,
      allowed,
      autoInsert,
      registerExpiresS: expires,
      stamp: JSON.stringify([profile, user, pass, cidrs, expires]),
    };
  }
}
