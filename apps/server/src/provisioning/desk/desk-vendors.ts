/**
 * The desk-phone vendor families: which files each requests (as its administrator guide names
 * them), how its User-Agent reads, which file renders which template, and the NOTIFY event that
 * makes it fetch again. Pure: no I/O.
 */
import type { DeskVendor } from '../provisioning-tables.js';
import type { DeskConfig, PhonebookEntry } from './desk-config.js';
import { macsIn, normalizeMac } from './mac-address.js';
import { ciscoConfig, ciscoDirectory } from './templates/cisco.js';
import { fanvilConfig, fanvilPhonebook } from './templates/fanvil.js';
import { grandstreamConfig, grandstreamPhonebook } from './templates/grandstream.js';
import { polycomDirectory, polycomMaster, polycomPhone } from './templates/polycom.js';
import { snomCommon, snomConfig, snomPhonebook } from './templates/snom.js';
import { yealinkCommon, yealinkConfig, yealinkPhonebook } from './templates/yealink.js';

/** Every vendor family, in a stable order. */
export const DESK_VENDORS = [
  'yealink',
  'polycom',
  'grandstream',
  'snom',
  'fanvil',
  'cisco',
] as const satisfies readonly DeskVendor[];

/** What a requested file name is. */
export type DeskFile =
  /** A file every phone of a vendor (or model) reads, without a MAC and without secrets. */
  | { kind: 'common'; vendor: DeskVendor; name: string }
  /** A phone's own file: `vendors` lists who may ask for that name (the device's vendor decides). */
  | { kind: 'config'; mac: string; vendors: readonly DeskVendor[]; role: 'config' | 'master' }
  /** A phone's phonebook, by MAC or (Grandstream) by the device secret alone. */
  | { kind: 'phonebook'; mac: string | undefined; vendors: readonly DeskVendor[] };

const MAC = '([0-9a-fA-F]{12})';
const RULES: Array<[RegExp, (m: RegExpExecArray) => DeskFile | undefined]> = [
  [/^y0{10}[0-9a-f]{2}\.cfg$/i, (m) => ({ kind: 'common', vendor: 'yealink', name: m[0] })],
  [/^0{12}\.cfg$/, (m) => ({ kind: 'common', vendor: 'polycom', name: m[0] })],
  [/^snom[0-9a-z]{2,12}\.htm$/i, (m) => ({ kind: 'common', vendor: 'snom', name: m[0] })],
  [new RegExp(`^${MAC}\\.cfg$`), (m) => config(m[1]!, ['yealink', 'polycom', 'fanvil'], 'config')],
  [new RegExp(`^${MAC}-phone\\.cfg$`), (m) => config(m[1]!, ['polycom'], 'config')],
  [new RegExp(`^cfg${MAC}\\.xml$`, 'i'), (m) => config(m[1]!, ['grandstream'], 'config')],
  [new RegExp(`^spa${MAC}\\.xml$`, 'i'), (m) => config(m[1]!, ['cisco'], 'config')],
  [new RegExp(`^${MAC}\\.xml$`), (m) => config(m[1]!, ['snom', 'cisco'], 'config')],
  [new RegExp(`^snom[0-9a-z]{2,12}-${MAC}\\.htm$`, 'i'), (m) => config(m[1]!, ['snom'], 'config')],
  [new RegExp(`^${MAC}-directory\\.xml$`), (m) => book(m[1]!, ['polycom'])],
  [new RegExp(`^${MAC}-phonebook\\.xml$`), (m) => book(m[1]!, ['yealink', 'snom', 'fanvil', 'cisco'])],
  [/^phonebook\.xml$/, () => ({ kind: 'phonebook', mac: undefined, vendors: ['grandstream'] })],
];

function config(raw: string, vendors: readonly DeskVendor[], role: 'config' | 'master'): DeskFile | undefined {
  const mac = normalizeMac(raw);
  return mac === undefined ? undefined : { kind: 'config', mac, vendors, role };
}
function book(raw: string, vendors: readonly DeskVendor[]): DeskFile | undefined {
  const mac = normalizeMac(raw);
  return mac === undefined ? undefined : { kind: 'phonebook', mac, vendors };
}

/** Longest file name any vendor requests (a longer one is not looked at). */
export const MAX_FILE_NAME = 64;

/** Classifies a requested file name; undefined when no vendor asks for such a file. */
export function classifyDeskFile(name: string): DeskFile | undefined {
  if (name.length === 0 || name.length > MAX_FILE_NAME) return undefined;
  for (const [re, make] of RULES) {
    const m = re.exec(name);
    if (m) return make(m);
  }
  return undefined;
}

/** What the phone says of itself in its User-Agent. */
export interface UserAgentInfo {
  vendor: DeskVendor | undefined;
  model: string | undefined;
  firmware: string | undefined;
  /** MACs the User-Agent carries (canonical). */
  macs: string[];
}

/** Only the start of a User-Agent is read: a phone's is well under this. */
export const MAX_USER_AGENT = 256;

const UA_RULES: Array<[DeskVendor, RegExp]> = [
  // Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56
  ['yealink', /\byealink\s+(?:SIP[- ])?([\w-]+)\s+([\d.]+)/i],
  // FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427
  ['polycom', /\bpolycom\w*-([\w]+)-UA\/([\d.A-Za-z]+)/i],
  // Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82123456
  ['grandstream', /\bgrandstream\s+(?:model\s+HW\s+)?([\w-]+)\s+(?:SW\s+)?([\d.]+)/i],
  // Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 010.1.33.33 000413ABCDEF)
  ['snom', /\bsnom([\w]+)-SIP\s+([\d.]+)/i],
  // Fanvil X4U 2.12.1 0c383e123456
  ['fanvil', /\bfanvil\s+([\w-]+)\s+([\d.]+)/i],
  // Cisco/SPA504G-7.6.2b (88755A123456) ... and Cisco-CP-8841-3PCC/11.3.1 (00562b043615)
  ['cisco', /\bcisco[/-]((?:CP-)?[\w]+?)(?:-3PCC)?[/-]([\w.()]+)/i],
];

/** Reads vendor, model, firmware and MAC from a User-Agent (its first {@link MAX_USER_AGENT} characters). */
export function parseUserAgent(ua: string | undefined): UserAgentInfo {
  const s = (ua ?? '').slice(0, MAX_USER_AGENT);
  for (const [vendor, re] of UA_RULES) {
    const m = re.exec(s);
    if (m) return { vendor, model: m[1], firmware: m[2], macs: macsIn(s) };
  }
  return { vendor: undefined, model: undefined, firmware: undefined, macs: macsIn(s) };
}

/** A rendered file: bytes and media type. */
export interface RenderedFile {
  body: string;
  contentType: string;
}

const XML = 'application/xml; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/** A vendor's common file (`filesBaseUrl`: where the phone's own files are, for Snom's pointer). */
export function renderCommon(vendor: DeskVendor, filesBaseUrl: string): RenderedFile {
  switch (vendor) {
    case 'yealink':
      return { body: yealinkCommon(), contentType: TEXT };
    case 'polycom':
      return { body: polycomMaster(), contentType: XML };
    case 'snom':
      return { body: snomCommon(filesBaseUrl), contentType: XML };
    default:
      throw new Error(`no common file for ${vendor}`);
  }
}

/** A phone's own file. */
export function renderConfig(c: DeskConfig, role: 'config' | 'master', requested: string): RenderedFile {
  switch (c.vendor) {
    case 'yealink':
      return { body: yealinkConfig(c), contentType: TEXT };
    case 'polycom':
      // `<mac>.cfg` is Polycom's per-phone master file; `<mac>-phone.cfg` the settings.
      return requested.endsWith('-phone.cfg') || role === 'master'
        ? { body: polycomPhone(c), contentType: XML }
        : { body: polycomMaster(), contentType: XML };
    case 'grandstream':
      return { body: grandstreamConfig(c), contentType: XML };
    case 'snom':
      return { body: snomConfig(c), contentType: XML };
    case 'fanvil':
      return { body: fanvilConfig(c), contentType: TEXT };
    case 'cisco':
      return { body: ciscoConfig(c), contentType: XML };
  }
}

/** The phonebook in the vendor's format. */
export function renderPhonebook(vendor: DeskVendor, entries: PhonebookEntry[]): RenderedFile {
  const body = {
    yealink: yealinkPhonebook,
    polycom: polycomDirectory,
    grandstream: grandstreamPhonebook,
    snom: snomPhonebook,
    fanvil: fanvilPhonebook,
    cisco: ciscoDirectory,
  }[vendor](entries);
  return { body, contentType: XML };
}

/** The name under which a vendor's phone fetches its phonebook (relative to its secret URL). */
export function phonebookFileName(vendor: DeskVendor, mac: string): string {
  if (vendor === 'grandstream') return 'phonebook.xml';
  if (vendor === 'polycom') return `${mac}-directory.xml`;
  return `${mac}-phonebook.xml`;
}

/** The file a phone is first pointed at (what `handset devices add` prints). */
export function configFileName(vendor: DeskVendor, mac: string): string {
  switch (vendor) {
    case 'grandstream':
      return `cfg${mac}.xml`;
    case 'cisco':
      return `spa${mac}.xml`;
    case 'snom':
      return `${mac}.xml`;
    case 'polycom':
      return `${mac}-phone.cfg`;
    default:
      return `${mac}.cfg`;
  }
}

/**
 * The `Event` header of the unsolicited NOTIFY that makes a phone fetch its configuration again:
 * `check-sync` (Yealink, Polycom, Grandstream, Snom, Fanvil; `;reboot=true` to restart it), and
 * `resync` for Cisco SPA/MPP (`reboot` for a restart).
 */
export function checkSyncEvent(vendor: DeskVendor | undefined, reboot: boolean): string {
  if (vendor === 'cisco') return reboot ? 'reboot' : 'resync';
  return `check-sync;reboot=${reboot ? 'true' : 'false'}`;
}
