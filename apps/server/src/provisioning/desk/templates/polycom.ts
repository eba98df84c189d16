/**
 * Polycom (VVX, SoundPoint IP, Trio) files in the XML of the Polycom UC Software Administrator
 * Guide: the master configuration `000000000000.cfg` (or `<mac>.cfg`) naming the files to load,
 * `<mac>-phone.cfg` with the `reg.N.*` registrations, and `<mac>-directory.xml` (the contact
 * directory). Parameters are attributes of any element; `polycomConfig` is the root.
 */
import { xml, keyLabel, languageName, utcOffsetMinutes, type DeskConfig, type PhonebookEntry } from '../desk-config.js';

const TRANSPORT = { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' } as const;
/** `voice.codecPref.*` names. */
const CODEC_PREF: Record<string, string> = {
  PCMU: 'G711_Mu',
  PCMA: 'G711_A',
  G722: 'G722',
  G729: 'G729_AB',
  opus: 'OPUS',
};
/** `lcl.ml.lang` values. */
const LANG: Record<string, string> = {
  en: 'English_United_States',
  de: 'German_Germany',
  fr: 'French_France',
  es: 'Spanish_Spain',
  it: 'Italian_Italy',
  nl: 'Dutch_Netherlands',
  pt: 'Portuguese_Portugal',
  pl: 'Polish_Poland',
};

/** The master configuration: any phone (`000000000000.cfg`) or one phone (`<mac>.cfg`). */
export function polycomMaster(): string {
  return (
    '<?xml version="1.0" standalone="yes"?>\n' +
    '<!-- Handset: master configuration -->\n' +
    '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-phone.cfg" MISC_FILES="" ' +
    'LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY="" ' +
    'USER_PROFILES_DIRECTORY="" CALL_LISTS_DIRECTORY="" COREFILE_DIRECTORY=""/>\n'
  );
}

/** `<mac>-phone.cfg`. */
export function polycomPhone(c: DeskConfig): string {
  const attrs: Array<[string, string | number]> = [];
  const set = (k: string, v: string | number) => attrs.push([k, v]);
  for (const l of c.lines) {
    const r = `reg.${l.no}`;
    set(`${r}.address`, `${l.ext}@${l.domain}`);
    set(`${r}.displayName`, l.displayName);
    set(`${r}.label`, l.label);
    set(`${r}.auth.userId`, l.authUser);
    set(`${r}.auth.password`, l.password);
    set(`${r}.server.1.address`, l.domain);
    set(`${r}.server.1.port`, l.server.port);
    set(`${r}.server.1.transport`, TRANSPORT[l.server.transport]);
    set(`${r}.server.1.expires`, c.registerExpiresS);
    set(`${r}.outboundProxy.address`, l.server.host);
    set(`${r}.outboundProxy.port`, l.server.port);
    set(`${r}.outboundProxy.transport`, TRANSPORT[l.server.transport]);
  }
  c.profile.codecs.forEach((codec, i) => {
    const name = CODEC_PREF[codec];
    if (name) set(`voice.codecPref.${name}`, i + 1);
  });
  set('tcpIpApp.sntp.address', c.profile.ntpServer);
  set('tcpIpApp.sntp.gmtOffset', utcOffsetMinutes(c.profile.timezone) * 60);
  set('lcl.ml.lang', LANG[c.profile.language] ?? 'English_United_States');
  if (c.profile.dialPlan) set('dialplan.digitmap', c.profile.dialPlan);
  if (c.profile.ringtone) set('np.normal.ringing.calls.tonePattern', c.profile.ringtone);
  // Programmable keys: BLF through the attendant resource list, the rest as enhanced feature keys.
  if (c.keys.some((k) => k.type !== 'line' && k.type !== 'blf')) set('feature.enhancedFeatureKeys.enabled', 1);
  let blf = 0;
  for (const k of c.keys) {
    if (k.type === 'blf') {
      blf++;
      set(`attendant.resourceList.${blf}.address`, `${k.value}@${c.lines[0]?.domain ?? ''}`);
      set(`attendant.resourceList.${blf}.label`, keyLabel(k));
      set(`attendant.resourceList.${blf}.type`, 'normal');
    } else if (k.type !== 'line') {
      set(`efk.efklist.${k.index}.mname`, `key${k.index}`);
      set(`efk.efklist.${k.index}.status`, 1);
      set(`efk.efklist.${k.index}.label`, keyLabel(k));
      set(`efk.efklist.${k.index}.action.string`, `${k.value}$Tinvite$`);
    }
  }
  set('dir.corp.address', c.phonebookUrl);
  set('feature.corporateDirectory.enabled', 0);
  const body = attrs.map(([k, v]) => `    ${k}="${xml(v)}"`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- Handset: ${c.mac}, ${languageName(c.profile.language)} -->\n<polycomConfig>\n  <all\n${body}\n  />\n</polycomConfig>\n`;
}

/** `<mac>-directory.xml`: the local contact directory format (fn/ln/ct). */
export function polycomDirectory(entries: PhonebookEntry[]): string {
  const items = entries.map(
    (e) => `    <item>\n      <fn>${xml(e.name)}</fn>\n      <ct>${xml(e.number)}</ct>\n    </item>`,
  );
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<directory>\n  <item_list>\n${items.join('\n')}\n  </item_list>\n</directory>\n`;
}
