/**
 * Fanvil (X, H and V series) `<mac>.cfg` in Fanvil's classic text configuration: the
 * `<<VOIP CONFIG FILE>>Version:2.0000000000` header, `<... CONFIG MODULE>` sections of
 * `Name  :value` lines, and `<<END OF FILE>>`. SIP lines are `SIPn ...` settings; DSS keys are
 * `Fkeyn Type/Value/Title` (memory keys: `number@line/suffix`, `/b` BLF, `/s` speed dial, `/c` park).
 */
import type { DeskKeyType } from '../../provisioning-tables.js';
import {
  flat,
  keyLabel,
  languageName,
  utcOffsetMinutes,
  xml,
  type DeskConfig,
  type PhonebookEntry,
} from '../desk-config.js';

const TRANSPORT = { udp: 0, tcp: 1, tls: 3 } as const;
const KEY_SUFFIX: Record<DeskKeyType, string> = { blf: 'b', speed_dial: 's', park: 'c', voicemail: 's', line: '' };

/** `<mac>.cfg`. */
export function fanvilConfig(c: DeskConfig): string {
  const out = ['<<VOIP CONFIG FILE>>Version:2.0000000000', ''];
  const set = (k: string, v: string | number) => out.push(`${k.padEnd(24)}:${flat(v)}`);
  out.push('<GLOBAL CONFIG MODULE>');
  set('SNTP Server', c.profile.ntpServer);
  set('Enable SNTP', 1);
  // Fanvil's zone setting is the offset in hours (its own index list maps onto these).
  set('Time Zone', utcOffsetMinutes(c.profile.timezone) / 60);
  set('Language', languageName(c.profile.language));
  out.push('', '<SIP CONFIG MODULE>', '--SIP Line List--  :');
  for (const l of c.lines) {
    const p = `SIP${l.no}`;
    set(`${p} Phone Number`, l.ext);
    set(`${p} Display Name`, l.displayName);
    set(`${p} Sip Name`, l.label);
    set(`${p} Register Addr`, l.domain);
    set(`${p} Register Port`, l.server.port);
    set(`${p} Register User`, l.authUser);
    set(`${p} Register Pswd`, l.password);
    set(`${p} Register TTL`, c.registerExpiresS);
    set(`${p} Enable Reg`, 1);
    set(`${p} Proxy Addr`, l.server.host);
    set(`${p} Proxy Port`, l.server.port);
    set(`${p} Transport Type`, TRANSPORT[l.server.transport]);
    if (c.profile.dialPlan) set(`${p} Dial Rule`, c.profile.dialPlan);
    if (c.profile.ringtone) set(`${p} Ring Type`, c.profile.ringtone);
  }
  out.push('', '<PHONE CONFIG MODULE>');
  set('Remote Phonebook URL1', c.phonebookUrl);
  set('Remote Phonebook Name1', 'Directory');
  out.push('', '<DSS CONFIG MODULE>');
  for (const k of c.keys) {
    const p = `Fkey${k.index}`;
    const line = k.line ?? 1;
    set(`${p} Type`, k.type === 'line' ? 2 : 1);
    set(`${p} Value`, k.type === 'line' ? `SIP${line}` : `${k.value}@${line}/${KEY_SUFFIX[k.type]}`);
    set(`${p} Title`, keyLabel(k));
  }
  out.push('', '<<END OF FILE>>', '');
  return out.join('\n');
}

/** The remote phonebook (`PhoneDirectory`). */
export function fanvilPhonebook(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) =>
      `  <DirectoryEntry>\n    <Name>${xml(e.name)}</Name>\n    <Telephone>${xml(e.number)}</Telephone>\n  </DirectoryEntry>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<PhoneDirectory>\n${items.join('\n')}\n</PhoneDirectory>\n`;
}
