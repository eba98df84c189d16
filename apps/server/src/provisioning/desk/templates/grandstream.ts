/**
 * Grandstream (GXP, GRP, GXV, DP) `cfg<mac>.xml` in the `gs_provision` XML of Grandstream's
 * configuration template: each setting is a P-value element. Accounts 1-4 (account 1 has its own
 * P-numbers, accounts 2-4 repeat one layout 100 apart). Remote phonebook: `phonebook.xml` in the
 * `AddressBook` format, fetched from the directory named by P331.
 */
import type { DeskKeyType } from '../../provisioning-tables.js';
import {
  CODEC_PAYLOAD,
  keyLabel,
  utcOffsetMinutes,
  xml,
  type DeskConfig,
  type PhonebookEntry,
} from '../desk-config.js';

const TRANSPORT = { udp: 0, tcp: 1, tls: 2 } as const;
/** Multi-purpose key modes (P323...). */
const MPK_MODE: Record<DeskKeyType, number> = { speed_dial: 0, blf: 1, voicemail: 6, park: 9, line: 0 };
/** Lines Grandstream's classic P-value layout has room for here. */
export const GRANDSTREAM_MAX_LINES = 4;

interface AccountKeys {
  active: string;
  name: string;
  server: string;
  proxy: string;
  userId: string;
  authId: string;
  password: string;
  displayName: string;
  transport: string;
  expiresMin: string;
}
const ACCOUNT_1: AccountKeys = {
  active: 'P271',
  name: 'P270',
  server: 'P47',
  proxy: 'P48',
  userId: 'P35',
  authId: 'P36',
  password: 'P34',
  displayName: 'P3',
  transport: 'P130',
  expiresMin: 'P32',
};
/** Accounts 2-4: P401..., P501..., P601... */
function accountKeys(no: number): AccountKeys {
  if (no === 1) return ACCOUNT_1;
  const b = (no + 2) * 100;
  const p = (n: number) => `P${b + n}`;
  return {
    active: p(1),
    name: p(17),
    server: p(2),
    proxy: p(3),
    userId: p(4),
    authId: p(5),
    password: p(6),
    displayName: p(7),
    transport: p(48),
    expiresMin: p(12),
  };
}

/** `cfg<mac>.xml`. */
export function grandstreamConfig(c: DeskConfig): string {
  const values: Array<[string, string | number]> = [];
  const set = (k: string, v: string | number) => values.push([k, v]);
  for (const l of c.lines.filter((x) => x.no <= GRANDSTREAM_MAX_LINES)) {
    const k = accountKeys(l.no);
    set(k.active, 1);
    set(k.name, l.label);
    set(k.server, l.domain);
    set(k.proxy, `${l.server.host}:${l.server.port}`);
    set(k.userId, l.ext);
    set(k.authId, l.authUser);
    set(k.password, l.password);
    set(k.displayName, l.displayName);
    set(k.transport, TRANSPORT[l.server.transport]);
    set(k.expiresMin, Math.max(1, Math.round(c.registerExpiresS / 60)));
  }
  // Preferred vocoders 1-6 (P57-P62), by RTP payload type.
  c.profile.codecs
    .map((n) => CODEC_PAYLOAD[n])
    .filter((pt): pt is number => pt !== undefined)
    .slice(0, 6)
    .forEach((pt, i) => set(`P${57 + i}`, pt));
  set('P30', c.profile.ntpServer);
  // P64 takes a POSIX TZ string: the sign is west-positive.
  const offset = utcOffsetMinutes(c.profile.timezone);
  set('P64', `UTC${offset > 0 ? '-' : '+'}${Math.abs(offset) / 60}`);
  set('P1362', c.profile.language);
  if (c.profile.dialPlan) set('P290', `{ ${c.profile.dialPlan} }`);
  if (c.profile.ringtone) set('P104', c.profile.ringtone);
  // Multi-purpose keys 1-7: mode P323+i, account P301+3i, name P302+3i, value P303+3i.
  for (const key of c.keys.filter((x) => x.index >= 1 && x.index <= 7)) {
    const i = key.index - 1;
    set(`P${323 + i}`, MPK_MODE[key.type]);
    set(`P${301 + 3 * i}`, (key.line ?? 1) - 1);
    set(`P${302 + 3 * i}`, keyLabel(key));
    set(`P${303 + 3 * i}`, key.value);
  }
  // Phonebook: P331 is the directory; the phone appends phonebook.xml.
  set('P330', c.phonebookUrl.startsWith('https:') ? 3 : 1);
  set('P331', c.phonebookUrl.replace(/phonebook\.xml$/, ''));
  set('P332', 60);
  const body = values.map(([k, v]) => `    <${k}>${xml(v)}</${k}>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<gs_provision version="1">\n  <mac>${c.mac}</mac>\n  <config version="1">\n${body}\n  </config>\n</gs_provision>\n`;
}

/** `phonebook.xml` (`AddressBook`). */
export function grandstreamPhonebook(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) =>
      `  <Contact>\n    <FirstName>${xml(e.name)}</FirstName>\n    <LastName></LastName>\n    <Phone type="Work">\n      <phonenumber>${xml(e.number)}</phonenumber>\n      <accountindex>1</accountindex>\n    </Phone>\n  </Contact>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<AddressBook>\n${items.join('\n')}\n</AddressBook>\n`;
}
