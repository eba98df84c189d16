/**
 * Turns a phone's configuration from Handset into baresip's `config` and `accounts` files
 * (baresip 1.x syntax). Pure functions, so what a phone gets can be read and tested.
 */
import type { PhoneConfiguration, PhoneLine } from '@handset/device-adapter';

/** Where this baresip listens and what it plays. */
export interface BaresipLocal {
  sipPort: number;
  ctrlPort: number;
  /** `audio_source`, e.g. `ausine,440` (a test tone) or `alsa,default`. */
  audioSource: string;
  /** `audio_player`, e.g. `alsa,null` (discard) or `alsa,default`. */
  audioPlayer: string;
}

/** Codecs baresip knows by these names (the modules loaded below). */
const KNOWN_CODECS = new Map([
  ['PCMU', 'PCMU'],
  ['PCMA', 'PCMA'],
  ['G722', 'G722/16000/1'],
  ['OPUS', 'opus'],
]);

/** The `audio_codecs` list from the PHONE config's coder, in its order (PCMU and PCMA when none is known). */
export function audioCodecs(coder: string | undefined): string[] {
  const names = (coder ?? '')
    .split(',')
    .map((c) => KNOWN_CODECS.get(c.trim().toUpperCase()))
    .filter((c): c is string => c !== undefined);
  return names.length > 0 ? names : ['PCMU', 'PCMA'];
}

/** The `config` file. */
export function configFile(c: PhoneConfiguration, local: BaresipLocal): string {
  const lines = [
    'poll_method\t\tepoll',
    `sip_listen\t\t127.0.0.1:${local.sipPort}`,
    'net_interface\t\t127.0.0.1',
    `audio_source\t\t${local.audioSource}`,
    `audio_player\t\t${local.audioPlayer}`,
    `audio_alert\t\t${local.audioPlayer}`,
    'ausrc_srate\t\t48000',
    'auplay_srate\t\t48000',
    'ausrc_channels\t\t2',
    'auplay_channels\t\t2',
    'rtp_ports\t\t20000-40000',
    'rtp_stats\t\tyes',
    'rtcp_mux\t\tno',
    'module_path\t\t/usr/lib/baresip/modules',
    'module\t\t\tg711.so',
    'module\t\t\tg722.so',
    'module\t\t\talsa.so',
    'module\t\t\tausine.so',
    ...(c.media?.stunServer ? ['module\t\t\tstun.so'] : []),
    'module_tmp\t\tuuid.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    'module_app\t\tctrl_tcp.so',
    `ctrl_tcp_listen\t\t127.0.0.1:${local.ctrlPort}`,
    'statmode_default\toff',
    'ringback_disabled\tyes',
  ];
  // Time zone and NTP are the host's business for a softphone; recorded for the reader.
  if (c.ntp) lines.push(`# handset ntp: tz=${c.ntp.tz} ntp1=${c.ntp.ntp1} ntp2=${c.ntp.ntp2}`);
  if (c.tlsProfile) lines.push(`# handset tls profile: ${c.tlsProfile.profile}`);
  return `${lines.join('\n')}\n`;
}

/** The AOR of a line. */
export function aorOf(line: Pick<PhoneLine, 'user' | 'domain'>): string {
  return `sip:${line.user}@${line.domain}`;
}

/** The `accounts` file: one account per line, registering through Handset as outbound proxy. */
export function accountsFile(c: PhoneConfiguration): string {
  const sip = c.sip;
  if (!sip) return '';
  const codecs = audioCodecs(c.phone?.coder).join(',');
  const outbound = `sip:${sip.server}:${sip.port};transport=${sip.transport}`;
  return sip.lines
    .map((l) => {
      // An account line has no quoting for these; refuse rather than write a broken account.
      if (/[;<>"\s]/.test(l.password) || /[;<>"\s@]/.test(l.authUser))
        throw new Error(`line ${l.line}: the credentials hold characters a baresip account cannot carry`);
      const name = l.displayName.replace(/["\\\r\n]/g, '');
      const media = c.media?.stunServer ? `;medianat=stun;stunserver="stun:${c.media.stunServer}"` : '';
      return (
        `"${name}" <${aorOf(l)};transport=${sip.transport}>;auth_user=${l.authUser};auth_pass=${l.password}` +
        `;outbound="${outbound}";regint=600;answermode=auto;audio_codecs=${codecs}${media}`
      );
    })
    .join('\n')
    .concat('\n');
}
