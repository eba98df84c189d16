/**
 * What a desk phone's configuration file says, independent of the vendor: the lines (accounts) with
 * their credentials, the server to register with, the keys, the domain's profile with the device's
 * overrides, and where the phone finds its phonebook. Vendor templates (templates/*.ts) turn it
 * into the vendor's own file format.
 */
import type { DeskKey, DeskVendor } from '../provisioning-tables.js';

/** SIP transports a desk phone is provisioned with. */
export type DeskTransport = 'udp' | 'tcp' | 'tls';

/** One account on the phone. */
export interface DeskLine {
  /** The phone's line (account) number, 1-based. */
  no: number;
  ext: string;
  /** The SIP domain (the AOR's host and the registrar's realm). */
  domain: string;
  /** Digest user name (the extension). */
  authUser: string;
  password: string;
  displayName: string;
  label: string;
  /** Where the phone sends its requests (the outbound proxy): Handset's public host. */
  server: { host: string; port: number; transport: DeskTransport };
}

/** The domain's desk-phone profile, with a device's overrides applied. */
export interface DeskProfile {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timezone: string;
  ntpServer: string;
  /** ISO 639-1 language of the phone's menus, e.g. `en`. */
  language: string;
  /** Codecs in order of preference, by their SDP names (`PCMU`, `PCMA`, `G722`, `opus`, `G729`). */
  codecs: string[];
  /** Digit map in the MGCP-style syntax phones share (`[2-9]xx|0T|x.T`); empty for the phone's default. */
  dialPlan: string;
  /** The vendor's ring tone name (e.g. `Ring3.wav`); empty for the phone's default. */
  ringtone: string;
}

/** A contact of the domain, for the remote phonebook. */
export interface PhonebookEntry {
  name: string;
  number: string;
}

/** Everything a vendor template renders. */
export interface DeskConfig {
  mac: string;
  vendor: DeskVendor;
  model: string | undefined;
  lines: DeskLine[];
  keys: DeskKey[];
  profile: DeskProfile;
  /** Absolute URL of this phone's remote phonebook (carries the device secret). */
  phonebookUrl: string;
  /** Seconds between re-registrations. */
  registerExpiresS: number;
}

/** Escapes text for XML element content and attribute values. */
export function xml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * A value for a `key = value` line format (Yealink, Fanvil): one line, no control characters. Those
 * formats have no escape syntax, so a line break cannot smuggle a second key into the file.
 */
export function flat(s: string | number): string {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\x00-\x1f\x7f]/g, ' ');
}

/** The zone's offset from UTC in minutes at `at` (standard or summer time as it applies then). */
export function utcOffsetMinutes(timezone: string, at: Date = new Date()): number {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
    if (!m) return 0;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  } catch {
    return 0;
  }
}

/** `+01:00`-style offset (sign always written). */
export function offsetHhMm(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Language names most vendors use in their settings (`English`, `German`, ...). */
export const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'German',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  nl: 'Dutch',
  pt: 'Portuguese',
  pl: 'Polish',
  tr: 'Turkish',
  ru: 'Russian',
};

/** The English name of a language code, English when unknown. */
export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? 'English';
}

/** RTP payload types of the static codecs, and the usual dynamic one for opus. */
export const CODEC_PAYLOAD: Record<string, number> = { PCMU: 0, PCMA: 8, G722: 9, G729: 18, opus: 123 };

/** The label a key shows: its own, else what it points at. */
export function keyLabel(k: DeskKey): string {
  if (k.label) return k.label;
  switch (k.type) {
    case 'voicemail':
      return 'Voicemail';
    case 'park':
      return 'Park';
    case 'line':
      return `Line ${k.line ?? 1}`;
    default:
      return k.value;
  }
}
