/**
 * The media plane as the proxy sees it: whether a call leg needs rtpengine, and the ng
 * offer/answer/delete that put a call's media through it. Leg profiles follow the two ends:
 * WebRTC legs get UDP/TLS/RTP/SAVPF with ICE, DTLS-SRTP and rtcp-mux (RFC 8829 §5.1.1); plain
 * legs get RTP/AVP, or RTP/SAVP with SDES (RFC 4568). Codecs the other end may lack are added
 * as transcodable (Opus <-> PCMU/PCMA/G.722), and telephone-event (RFC 4733) on both sides.
 */
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { BValue } from './bencode.js';
import { MediaError } from './media-error.js';
import type { RtpengineSet } from './rtpengine-set.js';
import type { MediaKind } from './sdp-profile.js';

/** HANDSET_MEDIA_ANCHOR: when calls go through rtpengine. */
export type AnchorMode = 'auto' | 'always' | 'never';

/** Media plane events. */
export type MediaPlaneEvents = {
  /** These calls lost their media (their rtpengine died): the proxy ends them. */
  lost: [callIds: string[]];
};

/** Options of {@link MediaPlane}. */
export interface MediaPlaneOptions {
  mode: AnchorMode;
  /** The rtpengines; undefined when none is configured or installed. */
  engines: RtpengineSet | undefined;
  /** Said to the user (in the 488's Reason) and the log when no rtpengine exists. */
  unavailableReason?: string;
  logger?: Logger | undefined;
}

/** One side's offer or answer. */
export interface SdpExchange {
  fromTag: string;
  toTag?: string | undefined;
  sdp: string;
  /** The SIP source of the SDP (rtpengine's received-from): NAT-ed phones are reached there. */
  receivedFrom?: string | undefined;
  /** Distinguishes the branches of a forked INVITE. */
  viaBranch?: string | undefined;
  /** Record this call (rtpengine's record-call). */
  record?: boolean | undefined;
  /** The offer's codecs (upper case), to add transcodable ones only where the other end may lack them all. */
  codecs?: readonly string[] | undefined;
  /** The offerer's kind: telephone-event is added for a leg between different kinds only. */
  fromKind?: MediaKind | undefined;
}

/** Codecs a plain phone almost always has: offered as transcodable toward it when the offer has none of them. */
const PLAIN_CODECS = ['PCMU', 'PCMA', 'G722'];
/** Codecs every WebRTC browser has. */
const WEBRTC_CODECS = ['opus', 'PCMU', 'PCMA', 'G722'];

/**
 * The codecs rtpengine adds to an offer as transcodable: only when the offer shares none with what
 * the other end surely has (transcoding costs rtpengine CPU and the call latency), and DTMF events
 * when a leg between a browser and a phone lacks them.
 */
export function transcodeFor(toward: MediaKind, x: Pick<SdpExchange, 'codecs' | 'fromKind'>): string[] {
  const codecs = new Set((x.codecs ?? []).map((c) => c.toUpperCase()));
  const target = toward === 'webrtc' ? WEBRTC_CODECS : PLAIN_CODECS;
  const out: string[] = [];
  if (!target.some((c) => codecs.has(c.toUpperCase())))
    out.push(...(toward === 'webrtc' ? ['opus', 'PCMU'] : PLAIN_CODECS));
  const crossKind = x.fromKind !== undefined && (x.fromKind === 'webrtc') !== (toward === 'webrtc');
  if (crossKind && !codecs.has('TELEPHONE-EVENT')) out.push('telephone-event');
  return out;
}

/** Decides and drives anchoring. */
export class MediaPlane extends TypedEmitter<MediaPlaneEvents> {
  constructor(private readonly o: MediaPlaneOptions) {
    super();
    this.onListenerError = (err, event) => o.logger?.error({ err, event }, 'media plane listener failed');
    o.engines?.on('engine-down', (_address, callIds) => {
      if (callIds.length > 0) this.emit('lost', callIds);
    });
  }

  /** The anchoring mode. */
  get mode(): AnchorMode {
    return this.o.mode;
  }

  /** True when an rtpengine is configured and believed alive. */
  get available(): boolean {
    return this.o.engines?.available ?? false;
  }

  /** Why calls that need rtpengine cannot have it, for the Reason header. */
  get unavailableReason(): string {
    if (!this.o.engines) return this.o.unavailableReason ?? 'media relay (rtpengine) is not installed';
    return 'media relay (rtpengine) is not answering';
  }

  /** True when a leg between these two ends goes through rtpengine. */
  needsAnchor(from: MediaKind, to: MediaKind): boolean {
    if (this.o.mode === 'never') return false;
    if (this.o.mode === 'always') return true;
    return (from === 'webrtc') !== (to === 'webrtc');
  }

  /** True when the call's media runs through an rtpengine. */
  has(callId: string): boolean {
    return this.o.engines?.has(callId) ?? false;
  }

  /** Sends an offer that goes toward an end of kind `toward`; resolves with the SDP for that end. */
  async offer(callId: string, toward: MediaKind, x: SdpExchange): Promise<string> {
    const r = await this.command(callId, 'offer', {
      ...this.common(x),
      'from-tag': x.fromTag,
      'to-tag': x.toTag,
      ...legFlags(toward, transcodeFor(toward, x)),
      'record-call': x.record === true ? 'yes' : undefined,
    });
    return sdpOf(r);
  }

  /** Sends an answer (from the end that received an offer); resolves with the SDP for the offerer. */
  async answer(callId: string, x: SdpExchange & { toTag: string }): Promise<string> {
    const r = await this.command(callId, 'answer', {
      ...this.common(x),
      'from-tag': x.fromTag,
      'to-tag': x.toTag,
    });
    return sdpOf(r);
  }

  /** Ends the call's media session (every branch). Errors are logged, never thrown. */
  async delete(callId: string): Promise<void> {
    const engines = this.o.engines;
    if (!engines?.has(callId)) return;
    try {
      await engines.command(callId, 'delete', { 'delete-delay': 0 });
    } catch (err) {
      // Already gone (rtpengine timed it out, or restarted): nothing leaks on its side.
      this.o.logger?.debug({ err, callId }, 'rtpengine delete failed');
    } finally {
      engines.release(callId);
    }
  }

  /** Calls each rtpengine holds now (its `list`), summed: 0 after every call ended means nothing leaked. */
  async sessionCount(): Promise<number> {
    let n = 0;
    for (const e of this.o.engines?.engines ?? []) {
      if (!e.alive) continue;
      const r = await e.client.request('list', { limit: 100000 });
      if (Array.isArray(r.calls)) n += r.calls.length;
    }
    return n;
  }

  private common(x: SdpExchange): Record<string, BValue | undefined> {
    return {
      sdp: x.sdp,
      'via-branch': x.viaBranch,
      'received-from': x.receivedFrom ? [x.receivedFrom.includes(':') ? 'IP6' : 'IP4', x.receivedFrom] : undefined,
      replace: ['origin', 'session-connection'],
    };
  }

  private async command(callId: string, cmd: string, args: Record<string, BValue | undefined>) {
    const engines = this.o.engines;
    if (!engines) throw new MediaError('UNAVAILABLE', this.unavailableReason);
    return engines.command(callId, cmd, args);
  }
}

/** The ng keys that shape the SDP an end of that kind receives. */
function legFlags(toward: MediaKind, transcode: string[]): Record<string, BValue> {
  const codec: Record<string, BValue> = transcode.length > 0 ? { codec: { transcode } } : {};
  if (toward === 'webrtc') {
    return {
      'transport-protocol': 'UDP/TLS/RTP/SAVPF',
      ICE: 'force',
      SDES: ['off'],
      'rtcp-mux': ['offer', 'require'],
      flags: ['generate-mid'],
      ...codec,
    };
  }
  return {
    'transport-protocol': toward === 'sdes' ? 'RTP/SAVP' : 'RTP/AVP',
    ICE: 'remove',
    DTLS: 'off',
    'rtcp-mux': ['demux'],
    ...codec,
  };
}

function sdpOf(r: { [key: string]: unknown }): string {
  if (typeof r.sdp !== 'string') throw new MediaError('REFUSED', 'rtpengine answered without an SDP');
  return r.sdp;
}
