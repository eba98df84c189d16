/**
 * What the anchoring decision needs from an SDP body (RFC 4566): the media profile of the
 * audio stream and its codecs. Nothing is rewritten here; rtpengine rewrites.
 */

/** How one end of a call speaks media. */
export type MediaKind =
  /** WebRTC: UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP (RFC 8827, RFC 8839). */
  | 'webrtc'
  /** Plain RTP/AVP (RFC 3551). */
  | 'rtp'
  /** RTP/SAVP keyed by SDES a=crypto (RFC 4568). */
  | 'sdes';

/** The audio stream of an SDP body. */
export interface SdpProfile {
  kind: MediaKind;
  /** Codec names of the audio m= line, upper case (`OPUS`, `PCMU`, `TELEPHONE-EVENT`). */
  codecs: string[];
}

/** Static payload types we may meet without an rtpmap (RFC 3551 §6). */
const STATIC_PT: Record<string, string> = { '0': 'PCMU', '8': 'PCMA', '9': 'G722', '18': 'G729', '3': 'GSM' };

/** Reads the first audio stream of an SDP body; undefined when there is none (or it is not SDP). */
export function sdpProfile(body: string): SdpProfile | undefined {
  const lines = body.split(/\r?\n/);
  let inAudio = false;
  let sawAudio = false;
  let proto = '';
  let fmts: string[] = [];
  const names = new Map<string, string>();
  let fingerprint = false;
  let crypto = false;
  let ice = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (sawAudio) break;
      const parts = line.slice(2).trim().split(/\s+/);
      inAudio = parts[0] === 'audio';
      if (inAudio) {
        sawAudio = true;
        proto = (parts[2] ?? '').toUpperCase();
        fmts = parts.slice(3);
      }
      continue;
    }
    // Session-level attributes count too (fingerprint and ICE credentials may sit there).
    if (!inAudio && sawAudio) continue;
    if (line.startsWith('a=fingerprint:')) fingerprint = true;
    else if (line.startsWith('a=crypto:')) crypto = true;
    else if (line.startsWith('a=ice-ufrag:')) ice = true;
    else if (inAudio && line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+)\s+([^/\s]+)/.exec(line);
      if (m) names.set(m[1]!, m[2]!.toUpperCase());
    }
  }
  if (!sawAudio) return undefined;
  let kind: MediaKind = 'rtp';
  if (proto.includes('TLS') || (fingerprint && ice) || proto.endsWith('SAVPF')) kind = 'webrtc';
  else if (proto === 'RTP/SAVP' || crypto) kind = 'sdes';
  const codecs = fmts.map((pt) => names.get(pt) ?? STATIC_PT[pt] ?? pt);
  return { kind, codecs };
}
