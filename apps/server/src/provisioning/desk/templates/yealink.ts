/**
 * Yealink (T4x/T5x/T3x, CP, W-series) configuration files, in the `key = value` format of the
 * Yealink SIP IP Phones Administrator Guide: `y0000000000xx.cfg` (common, per model) and
 * `<mac>.cfg` (MAC-oriented), beginning with the mandatory `#!version:1.0.0.1` line. Keys are the
 * documented ones (`account.N.*`, `linekey.N.*`, `local_time.*`, `remote_phonebook.data.N.*`).
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

const TRANSPORT = { udp: 0, tcp: 1, tls: 2 } as const;
/** DSS key types (Administrator Guide, "linekey.X.type"). */
const KEY_TYPE: Record<DeskKeyType, number> = { line: 15, blf: 16, speed_dial: 13, park: 10, voicemail: 12 };
/** Codec names as Yealink's `account.N.codec.<name>.*` keys spell them. */
const CODEC_KEY: Record<string, string> = { PCMU: 'pcmu', PCMA: 'pcma', G722: 'g722', G729: 'g729', opus: 'opus' };

/** The common file: no account, nothing secret (it is the same for every phone of a model). */
export function yealinkCommon(): string {
  return '#!version:1.0.0.1\n## Handset: common file; each phone reads its accounts from <mac>.cfg\n';
}

/** `<mac>.cfg`. */
export function yealinkConfig(c: DeskConfig): string {
  const out = ['#!version:1.0.0.1', `## Handset: ${c.mac}${c.model ? ` (${flat(c.model)})` : ''}`];
  const set = (k: string, v: string | number) => out.push(`${k} = ${flat(v)}`);
  for (const l of c.lines) {
    const a = `account.${l.no}`;
    set(`${a}.enable`, 1);
    set(`${a}.label`, l.label);
    set(`${a}.display_name`, l.displayName);
    set(`${a}.auth_name`, l.authUser);
    set(`${a}.user_name`, l.ext);
    set(`${a}.password`, l.password);
    set(`${a}.sip_server.1.address`, l.domain);
    set(`${a}.sip_server.1.port`, l.server.port);
    set(`${a}.sip_server.1.transport_type`, TRANSPORT[l.server.transport]);
    set(`${a}.sip_server.1.expires`, c.registerExpiresS);
    set(`${a}.outbound_proxy_enable`, 1);
    set(`${a}.outbound_host`, l.server.host);
    set(`${a}.outbound_port`, l.server.port);
    c.profile.codecs.forEach((codec, i) => {
      const key = CODEC_KEY[codec];
      if (!key) return;
      set(`${a}.codec.${key}.enable`, 1);
      set(`${a}.codec.${key}.priority`, i + 1);
    });
    if (c.profile.dialPlan) set(`${a}.dialplan.digitmap.string`, c.profile.dialPlan);
  }
  const offset = utcOffsetMinutes(c.profile.timezone);
  set('local_time.time_zone', `${offset < 0 ? '-' : '+'}${Math.abs(offset) / 60}`);
  set('local_time.ntp_server1', c.profile.ntpServer);
  set('lang.gui', languageName(c.profile.language));
  set('lang.wui', languageName(c.profile.language));
  if (c.profile.ringtone) set('phone_setting.ring_type', c.profile.ringtone);
  for (const k of c.keys) {
    const p = `linekey.${k.index}`;
    set(`${p}.type`, KEY_TYPE[k.type]);
    set(`${p}.line`, k.line ?? 1);
    set(`${p}.value`, k.value);
    set(`${p}.label`, keyLabel(k));
  }
  set('remote_phonebook.data.1.url', c.phonebookUrl);
  set('remote_phonebook.data.1.name', 'Directory');
  return out.join('\n') + '\n';
}

/** The remote phonebook (`YealinkIPPhoneDirectory`). */
export function yealinkPhonebook(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) =>
      `  <DirectoryEntry>\n    <Name>${xml(e.name)}</Name>\n    <Telephone>${xml(e.number)}</Telephone>\n  </DirectoryEntry>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<YealinkIPPhoneDirectory>\n${items.join('\n')}\n</YealinkIPPhoneDirectory>\n`;
}
