/**
 * Cisco SPA (`spa<mac>.xml`) and Cisco IP Phone MPP multiplatform firmware (`<mac>.xml`) profiles
 * in Cisco's XML flat-profile format: one element per parameter, named as on the phone's web page
 * with spaces as underscores and the line index as a `_N_` suffix (`User_ID_1_`). `ua="na"` keeps
 * the user from changing a value on the phone. Directory: `CiscoIPPhoneDirectory` XML service.
 */
import type { DeskKey } from '../../provisioning-tables.js';
import {
  keyLabel,
  languageName,
  offsetHhMm,
  utcOffsetMinutes,
  xml,
  type DeskConfig,
  type PhonebookEntry,
} from '../desk-config.js';

const TRANSPORT = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' } as const;
/** `Preferred_Codec_N_` values. */
const CODEC: Record<string, string> = { PCMU: 'G711u', PCMA: 'G711a', G722: 'G722', G729: 'G729a', opus: 'OPUS' };

function extendedFunction(k: DeskKey, domain: string): string {
  const name = `nme=${keyLabel(k)}`;
  switch (k.type) {
    case 'blf':
      return `fnc=blf+sd+cp;sub=${k.value}@${domain};${name}`;
    case 'speed_dial':
    case 'voicemail':
      return `fnc=sd;ext=${k.value}@$PROXY;${name}`;
    case 'park':
      return `fnc=prk;sub=${k.value}@$PROXY;${name}`;
    case 'line':
      return '';
  }
}

/** The flat profile. */
export function ciscoConfig(c: DeskConfig): string {
  const out: string[] = [];
  const set = (k: string, v: string | number) => out.push(`  <${k} ua="na">${xml(v)}</${k}>`);
  for (const l of c.lines) {
    const n = `_${l.no}_`;
    set(`Line_Enable${n}`, 'Yes');
    set(`Proxy${n}`, `${l.domain}:${l.server.port}`);
    set(`Outbound_Proxy${n}`, `${l.server.host}:${l.server.port}`);
    set(`Use_Outbound_Proxy${n}`, 'Yes');
    set(`SIP_Transport${n}`, TRANSPORT[l.server.transport]);
    set(`Register${n}`, 'Yes');
    set(`Register_Expires${n}`, c.registerExpiresS);
    set(`Display_Name${n}`, l.displayName);
    set(`User_ID${n}`, l.ext);
    set(`Password${n}`, l.password);
    set(`Use_Auth_ID${n}`, 'Yes');
    set(`Auth_ID${n}`, l.authUser);
    set(`Short_Name${n}`, l.label);
    const codec = c.profile.codecs.map((x) => CODEC[x]).find((x) => x !== undefined);
    if (codec) set(`Preferred_Codec${n}`, codec);
    if (c.profile.dialPlan) set(`Dial_Plan${n}`, `(${c.profile.dialPlan})`);
    if (c.profile.ringtone) set(`Default_Ring${n}`, c.profile.ringtone);
  }
  set('Primary_NTP_Server', c.profile.ntpServer);
  set('Time_Zone', `GMT${offsetHhMm(utcOffsetMinutes(c.profile.timezone))}`);
  set('Language_Selection', languageName(c.profile.language));
  const domain = c.lines[0]?.domain ?? '';
  for (const k of c.keys.filter((x) => x.type !== 'line')) {
    set(`Extension_${k.index}_`, 'Disabled');
    set(`Extended_Function_${k.index}_`, extendedFunction(k, domain));
  }
  set('XML_Directory_Service_Name', 'Directory');
  set('XML_Directory_Service_URL', c.phonebookUrl);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<flat-profile>\n${out.join('\n')}\n</flat-profile>\n`;
}

/** The directory (`CiscoIPPhoneDirectory`). */
export function ciscoDirectory(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) =>
      `  <DirectoryEntry>\n    <Name>${xml(e.name)}</Name>\n    <Telephone>${xml(e.number)}</Telephone>\n  </DirectoryEntry>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CiscoIPPhoneDirectory>\n  <Title>Directory</Title>\n  <Prompt>Select a contact</Prompt>\n${items.join('\n')}\n</CiscoIPPhoneDirectory>\n`;
}
