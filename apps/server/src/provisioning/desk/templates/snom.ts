/**
 * Snom (D1xx/D3xx/D7xx, 3xx/7xx) files in Snom's XML provisioning format: `snom<model>.htm` (the
 * model's common file, sent without a MAC, which points the phone at its own `<MAC>.xml` with the
 * `{mac}` placeholder Snom fills in), and `<MAC>.xml` with `phone-settings` (indexed `user_*`
 * settings per identity) and `functionKeys`; the directory key opens `<MAC>-phonebook.xml`. Settings marked `perm="R"` are
 * read-only on the phone: the server stays the source of truth.
 */
import type { DeskKey } from '../../provisioning-tables.js';
import {
  CODEC_PAYLOAD,
  keyLabel,
  languageName,
  utcOffsetMinutes,
  xml,
  type DeskConfig,
  type PhonebookEntry,
} from '../desk-config.js';

/** `snom<model>.htm`: where each phone finds its own file (Snom substitutes `{mac}`). */
export function snomCommon(filesBaseUrl: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<setting-files>\n  <file url="${xml(filesBaseUrl)}{mac}.xml"/>\n</setting-files>\n`;
}

function fkeyValue(k: DeskKey, domain: string): string {
  switch (k.type) {
    case 'blf':
      return `blf <sip:${k.value}@${domain}>`;
    case 'speed_dial':
      return `speed ${k.value}`;
    case 'park':
      return `speed ${k.value}`;
    case 'voicemail':
      return k.value ? `speed ${k.value}` : 'keyevent F_RETRIEVE';
    case 'line':
      return 'line';
  }
}

/** `<MAC>.xml`. */
export function snomConfig(c: DeskConfig): string {
  const s: string[] = [];
  const set = (name: string, v: string | number, idx?: number) =>
    s.push(`    <${name}${idx === undefined ? '' : ` idx="${idx}"`} perm="R">${xml(v)}</${name}>`);
  for (const l of c.lines) {
    set('user_active', 'on', l.no);
    set('user_realname', l.displayName, l.no);
    set('user_name', l.ext, l.no);
    set('user_pname', l.authUser, l.no);
    set('user_pass', l.password, l.no);
    set('user_host', l.domain, l.no);
    set('user_outbound', `${l.server.host}:${l.server.port};transport=${l.server.transport}`, l.no);
    set('user_expiry', c.registerExpiresS, l.no);
    if (c.profile.dialPlan) set('user_dp_str', c.profile.dialPlan, l.no);
    if (c.profile.ringtone) set('user_ringer', c.profile.ringtone, l.no);
    c.profile.codecs
      .map((n) => CODEC_PAYLOAD[n])
      .filter((pt): pt is number => pt !== undefined && pt < 100)
      .forEach((pt, i) => set(`codec${i + 1}_name`, pt, l.no));
  }
  set('ntp_server', c.profile.ntpServer);
  // Snom's own zone names differ per firmware; the offset form (e.g. `GMT+1`) is understood by all.
  const offset = utcOffsetMinutes(c.profile.timezone);
  set('timezone', `GMT${offset < 0 ? '-' : '+'}${Math.abs(offset) / 60}`);
  set('language', languageName(c.profile.language));
  set('web_language', languageName(c.profile.language));
  // The directory key opens the remote phonebook in the phone's XML minibrowser.
  set('dkey_directory', `url ${c.phonebookUrl}`);
  const domain = c.lines[0]?.domain ?? '';
  const keys = c.keys.map(
    (k) =>
      `    <fkey idx="${k.index - 1}" context="${k.line ?? 1}" label="${xml(keyLabel(k))}" perm="R">${xml(fkeyValue(k, domain))}</fkey>`,
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<settings>',
    '  <phone-settings e="2">',
    ...s,
    '  </phone-settings>',
    '  <functionKeys e="2">',
    ...keys,
    '  </functionKeys>',
    '</settings>',
    '',
  ].join('\n');
}

/** The phonebook for the XML minibrowser (`SnomIPPhoneDirectory`, `<MAC>-phonebook.xml`). */
export function snomPhonebook(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) =>
      `  <DirectoryEntry>\n    <Name>${xml(e.name)}</Name>\n    <Telephone>${xml(e.number)}</Telephone>\n  </DirectoryEntry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n<SnomIPPhoneDirectory>\n  <Title>Directory</Title>\n${items.join('\n')}\n</SnomIPPhoneDirectory>\n`;
}
