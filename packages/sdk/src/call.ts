import { summarizeStats, type CallStats } from './call-quality.js';
import { type CallFailure, callFailureOf } from './call-failure.js';
import { assertTransition, CallState } from './call-state.js';
import type { Clock } from './clock.js';
import { HandsetError } from './handset-error.js';
import type { MediaOptions, Originator, SessionEnd, SessionPort } from './sip-ports.js';
import { TypedEmitter } from './typed-emitter.js';

/** Which side holds the call. */
export interface HoldState {
  readonly local: boolean;
  readonly remote: boolean;
}

/** Which local tracks are muted. */
export interface MuteState {
  readonly audio: boolean;
  readonly video: boolean;
}

/** How DTMF travels: RFC 4733 telephone-events in the RTP stream, or SIP INFO (application/dtmf-relay). */
export type DtmfTransport = 'rfc4733' | 'info';

/** A DTMF tone received from the other side (SIP INFO; RFC 4733 tones are not visible to a browser). */
export interface DtmfTone {
  readonly tone: string;
  readonly durationMs: number;
}

/** How a call ended. */
export interface CallEnd {
  /** Who ended it. */
  readonly by: Originator;
  /** JsSIP-independent cause text: 'Terminated', 'Busy', 'Rejected', 'Canceled', 'Connection Error', ... */
  readonly cause: string;
  /** The SIP status of a failed set-up (486, 603, ...). */
  readonly statusCode?: number | undefined;
  /** True when the call was never answered. */
  readonly failed: boolean;
  /** For a failed call: why, for the UI to put in words (busy, not found, no answer, media not possible...). */
  readonly failure?: CallFailure | undefined;
  /** For a failed call: the server's own explanation (its Reason header), when it gave one. */
  readonly reasonText?: string | undefined;
}

/** Who and what a call is, fixed by its INVITE. */
export interface CallIdentity {
  /** The SDK's id of this call (stable across the embed boundary). */
  readonly id: string;
  /** The SIP Call-ID (what Handset's CDRs are keyed by). */
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly remoteUri: string;
  readonly remoteDisplayName: string | undefined;
  /** Outgoing: video was asked for; incoming: the offer has video. */
  readonly video: boolean;
}

/** A finished call, as the phone's local history (and the embed's `cdr` event) reports it. */
export interface CallRecord extends CallIdentity {
  readonly startedAt: number;
  readonly answeredAt: number | undefined;
  readonly endedAt: number;
  /** Seconds between answer and end (0 when never answered). */
  readonly durationS: number;
  readonly end: CallEnd;
}

/** Events of a {@link Call}. */
export type CallEvents = {
  stateChanged: [state: CallState, previous: CallState];
  hold: [HoldState];
  mute: [MuteState];
  /** A DTMF tone arrived by SIP INFO. */
  dtmf: [DtmfTone];
  /** A local RFC 4733 tone started playing (RTCDTMFSender `tonechange`); '' when the queue emptied. */
  dtmfSent: [tone: string];
  /** The remote side's media, once per new stream (attach it to an audio or video element). */
  remoteStream: [MediaStream];
  /** A re-INVITE with ICE restart completed (after a WebSocket reconnect). */
  iceRestarted: [];
  /** Our REFER was accepted (the transfer went through) or failed. */
  transfer: [{ ok: boolean; cause?: string }];
  ended: [CallEnd];
};

/** What a call needs from its phone. */
export interface CallContext {
  readonly clock: Clock;
  /** Answer/offer media options for this call (devices, ICE servers). */
  media(video: boolean): Promise<MediaOptions>;
  /** Deadline for ICE gathering before the SDP goes out anyway. */
  readonly iceGatheringTimeoutMs: number;
  readonly dtmfTransport: DtmfTransport;
  /** Rewrites a local SDP before it is sent (codec policy, tests' candidate filter). */
  readonly sdpTransform: ((sdp: string, type: 'offer' | 'answer') => string) | undefined;
  readonly onListenerError: (err: unknown, event: string) => void;
}

/** Static facts of a call, from the INVITE. */
export interface CallInit extends CallIdentity {
  readonly session: SessionPort;
}

const DTMF_TONES = /^[0-9A-D#*,]{1,64}$/i;

/**
 * One call: answer, reject, hang up, hold, mute, DTMF, transfer and statistics, with its state
 * in {@link CallState} and events in {@link CallEvents}. Created by the Phone, never directly.
 */
export class Call extends TypedEmitter<CallEvents> implements CallIdentity {
  readonly id: string;
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly remoteUri: string;
  readonly remoteDisplayName: string | undefined;
  readonly video: boolean;
  /** Set by the transferor's Phone on a call that replaces another (attended transfer target side). */
  replaces: Call | undefined;

  private stateValue: CallState;
  private holdValue: HoldState = { local: false, remote: false };
  private muteValue: MuteState = { audio: false, video: false };
  private readonly startedAt: number;
  private answeredAt: number | undefined;
  private endValue: CallEnd | undefined;
  private readonly remoteStreams = new Set<string>();

  /** @internal built by the Phone. */
  constructor(
    init: CallInit,
    private readonly ctx: CallContext,
  ) {
    super(ctx.onListenerError);
    this.id = init.id;
    this.callId = init.callId;
    this.direction = init.direction;
    this.remoteUri = init.remoteUri;
    this.remoteDisplayName = init.remoteDisplayName;
    this.video = init.video;
    this.session = init.session;
    this.stateValue = init.direction === 'incoming' ? CallState.Ringing : CallState.Calling;
    this.startedAt = ctx.clock.now();
    this.wire();
  }

  /** @internal the SIP session (the Phone uses it for attended transfer). */
  readonly session: SessionPort;

  /** Where the call is. */
  get state(): CallState {
    return this.stateValue;
  }
  /** Which side holds the call. */
  get holdState(): HoldState {
    return this.holdValue;
  }
  /** Which local tracks are muted. */
  get muteState(): MuteState {
    return this.muteValue;
  }
  /** How the call ended (undefined while it lasts). */
  get end(): CallEnd | undefined {
    return this.endValue;
  }
  /** The RTCPeerConnection once media set-up began (for apps that need raw access). */
  get peerConnection(): RTCPeerConnection | undefined {
    return this.session.connection;
  }

  /** Answers an incoming call (video only if the offer has it and `video` is not false). */
  async answer(o: { video?: boolean } = {}): Promise<void> {
    this.require('answer', [CallState.Ringing]);
    this.transition(CallState.Answering);
    const media = await this.ctx.media(o.video ?? this.video);
    if (this.stateValue !== CallState.Answering) return; // cancelled while the devices opened
    this.session.answer(media);
  }

  /** Rejects an incoming call (486 Busy Here by default; 603 to decline everywhere). */
  reject(statusCode = 486): void {
    this.require('reject', [CallState.Ringing]);
    if (!Number.isInteger(statusCode) || statusCode < 300 || statusCode > 699)
      throw HandsetError.invalidArgument('reject needs a 3xx-6xx status');
    this.session.terminate(statusCode);
  }

  /** Hangs up, cancels or rejects, whatever the state; a no-op once ended. */
  hangup(): void {
    if (this.stateValue === CallState.Ended) return;
    this.session.terminate();
  }

  /** Puts the call on hold: a re-INVITE with a=inactive, so media stops both ways (RFC 3264 §8.4). */
  hold(): void {
    this.require('hold', [CallState.Active]);
    if (this.holdValue.local) return;
    if (!this.session.hold()) {
      throw HandsetError.invalidState('hold while another re-INVITE is pending', this.stateValue);
    }
  }

  /** Resumes a held call (re-INVITE with a=sendrecv). */
  unhold(): void {
    this.require('unhold', [CallState.Active]);
    if (!this.holdValue.local) return;
    if (!this.session.unhold())
      throw HandsetError.invalidState('unhold while another re-INVITE is pending', this.stateValue);
  }

  /** Mutes the microphone (and the camera with `{video: true}`). */
  mute(kinds: { audio?: boolean; video?: boolean } = { audio: true }): void {
    this.requireLive('mute');
    this.session.mute({ audio: kinds.audio ?? false, video: kinds.video ?? false });
    this.setMute({
      audio: this.muteValue.audio || (kinds.audio ?? false),
      video: this.muteValue.video || (kinds.video ?? false),
    });
  }

  /** Unmutes what {@link mute} muted. */
  unmute(kinds: { audio?: boolean; video?: boolean } = { audio: true }): void {
    this.requireLive('unmute');
    this.session.unmute({ audio: kinds.audio ?? false, video: kinds.video ?? false });
    this.setMute({
      audio: this.muteValue.audio && !(kinds.audio ?? false),
      video: this.muteValue.video && !(kinds.video ?? false),
    });
  }

  /**
   * Sends DTMF tones (0-9, A-D, *, #; ',' is a 2 s pause). RFC 4733 in the RTP stream by
   * default; `{transport: 'info'}` sends SIP INFO application/dtmf-relay instead.
   */
  sendDTMF(tones: string, o: { transport?: DtmfTransport; durationMs?: number; gapMs?: number } = {}): void {
    this.require('send DTMF', [CallState.Active]);
    if (typeof tones !== 'string' || !DTMF_TONES.test(tones))
      throw HandsetError.invalidArgument('DTMF tones must be 1-64 of 0-9, A-D, *, #, ","');
    const durationMs = o.durationMs ?? 100;
    const gapMs = o.gapMs ?? 70;
    if (!(durationMs >= 40 && durationMs <= 6000) || !(gapMs >= 30 && gapMs <= 6000))
      throw HandsetError.invalidArgument('DTMF duration must be 40-6000 ms and the gap 30-6000 ms');
    this.session.sendDtmf(tones, { transport: o.transport ?? this.ctx.dtmfTransport, durationMs, gapMs });
  }

  /** Blind transfer: REFER the other side to `target`; this call ends when the transfer is accepted. */
  transfer(target: string): Promise<void> {
    this.require('transfer', [CallState.Active]);
    if (typeof target !== 'string' || target.trim() === '' || target.length > 256)
      throw HandsetError.invalidArgument('transfer needs a target');
    return this.refer(target.trim(), undefined);
  }

  /**
   * Attended transfer: this call's remote party is connected to `other`'s remote party
   * (REFER with Replaces, RFC 5589 §7); both our calls end when it is accepted.
   */
  attendedTransfer(other: Call): Promise<void> {
    this.require('transfer', [CallState.Active]);
    if (other === this || other.state !== CallState.Active)
      throw HandsetError.invalidArgument('attended transfer needs another active call');
    return this.refer(other.remoteUri, other).then(() => other.hangup());
  }

  /** Packet counters and quality (loss, jitter, RTT) from getStats(). */
  async getStats(): Promise<CallStats> {
    const pc = this.session.connection;
    if (!pc) return summarizeStats([]);
    const report = await pc.getStats();
    const entries: Record<string, unknown>[] = [];
    report.forEach((r: Record<string, unknown>) => entries.push(r));
    return summarizeStats(entries);
  }

  /** @internal re-INVITE with new ICE credentials (the Phone calls it after a WebSocket reconnect). */
  restartIce(): boolean {
    if (this.stateValue !== CallState.Active) return false;
    return this.session.renegotiate(true, () => this.emit('iceRestarted'));
  }

  private refer(target: string, replaces: Call | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.session.refer(
        target,
        {
          onAccepted: () => {
            this.emit('transfer', { ok: true });
            this.hangup();
            resolve();
          },
          onFailed: (cause) => {
            this.emit('transfer', { ok: false, cause });
            reject(HandsetError.callFailed(`transfer failed: ${cause}`));
          },
        },
        replaces?.session,
      );
    });
  }

  private wire(): void {
    const s = this.session;
    s.on('progress', () => {
      if (this.stateValue === CallState.Calling) this.transition(CallState.Early);
    });
    s.on('accepted', () => {
      this.answeredAt ??= this.ctx.clock.now();
      if (this.stateValue !== CallState.Active) this.transition(CallState.Active);
    });
    s.on('confirmed', () => {
      this.answeredAt ??= this.ctx.clock.now();
      if (this.stateValue !== CallState.Active) this.transition(CallState.Active);
    });
    s.on('ended', (e) => this.finish(e, false));
    s.on('failed', (e) => this.finish(e, true));
    s.on('hold', (by) => this.setHold(by, true));
    s.on('unhold', (by) => this.setHold(by, false));
    s.on('dtmf', (d) => {
      if (d.originator === 'remote') this.emit('dtmf', { tone: d.tone, durationMs: d.durationMs });
    });
    s.on('info', (i) => {
      // Some phones send DTMF as INFO without JsSIP recognising it; application/dtmf-relay is RFC-less but universal.
      if (i.originator !== 'remote' || !/^application\/dtmf(-relay)?/i.test(i.contentType)) return;
      const tone = /Signal\s*=\s*([0-9A-D#*])/i.exec(i.body)?.[1];
      const duration = Number(/Duration\s*=\s*(\d+)/i.exec(i.body)?.[1] ?? 100);
      if (tone) this.emit('dtmf', { tone: tone.toUpperCase(), durationMs: duration });
    });
    s.on('peerconnection', (pc) => this.watchPeerConnection(pc));
    if (s.connection) this.watchPeerConnection(s.connection);
    s.on('icecandidate', ({ ready }) => this.armIceDeadline(ready));
    s.on('sdp', (e) => {
      if (e.originator !== 'local') return;
      // Hold as a=inactive (RFC 3264 §8.4), so the other side stops sending too. JsSIP would offer
      // sendonly; it sends what the first 'sdp' event leaves and only then rewrites sendrecv,
      // which leaves inactive alone.
      if (this.holdValue.local && e.type === 'offer')
        e.sdp = e.sdp.replace(/^a=(sendrecv|sendonly)(?=\r?$)/gm, 'a=inactive');
      if (this.ctx.sdpTransform) e.sdp = this.ctx.sdpTransform(e.sdp, e.type);
    });
  }

  private iceTimer: unknown;
  private iceReady: (() => void) | undefined;

  /**
   * JsSIP waits for the end of ICE gathering before sending an SDP; an unreachable STUN/TURN
   * server can make that seconds. From the first candidate on, the SDP leaves at the deadline.
   */
  private armIceDeadline(ready: () => void): void {
    if (this.iceReady === ready) return;
    this.ctx.clock.clearTimeout(this.iceTimer);
    this.iceReady = ready;
    this.iceTimer = this.ctx.clock.setTimeout(() => {
      this.iceReady = undefined;
      ready();
    }, this.ctx.iceGatheringTimeoutMs);
  }

  private watchPeerConnection(pc: RTCPeerConnection): void {
    pc.addEventListener('track', (ev: RTCTrackEvent) => {
      const stream = ev.streams[0] ?? new MediaStream([ev.track]);
      if (this.remoteStreams.has(stream.id)) return;
      this.remoteStreams.add(stream.id);
      this.emit('remoteStream', stream);
    });
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') this.ctx.clock.clearTimeout(this.iceTimer);
    });
    for (const sender of pc.getSenders()) this.watchDtmfSender(sender);
    pc.addEventListener('negotiationneeded', () => {
      for (const sender of pc.getSenders()) this.watchDtmfSender(sender);
    });
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState !== 'stable') return;
      for (const sender of pc.getSenders()) this.watchDtmfSender(sender);
    });
  }

  private readonly dtmfSenders = new WeakSet<RTCDTMFSender>();

  private watchDtmfSender(sender: RTCRtpSender): void {
    const dtmf = sender.dtmf;
    if (!dtmf || this.dtmfSenders.has(dtmf)) return;
    this.dtmfSenders.add(dtmf);
    dtmf.addEventListener('tonechange', (ev: RTCDTMFToneChangeEvent) => this.emit('dtmfSent', ev.tone));
  }

  private finish(e: SessionEnd, failed: boolean): void {
    if (this.stateValue === CallState.Ended) return;
    this.ctx.clock.clearTimeout(this.iceTimer);
    this.endValue = {
      by: e.originator,
      cause: e.cause,
      statusCode: e.statusCode,
      failed,
      ...(failed ? { failure: callFailureOf(e.statusCode, e.reasonPhrase), reasonText: e.reasonText } : {}),
    };
    this.transition(CallState.Ended);
    this.emit('ended', this.endValue);
  }

  /** @internal the history row of an ended call. */
  record(): CallRecord {
    const endedAt = this.ctx.clock.now();
    return {
      id: this.id,
      callId: this.callId,
      direction: this.direction,
      remoteUri: this.remoteUri,
      remoteDisplayName: this.remoteDisplayName,
      video: this.video,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
      endedAt,
      durationS: this.answeredAt === undefined ? 0 : Math.round((endedAt - this.answeredAt) / 1000),
      end: this.endValue ?? { by: 'system', cause: 'unknown', failed: true },
    };
  }

  private setHold(by: Originator, on: boolean): void {
    const next = by === 'remote' ? { ...this.holdValue, remote: on } : { ...this.holdValue, local: on };
    if (next.local === this.holdValue.local && next.remote === this.holdValue.remote) return;
    this.holdValue = next;
    this.emit('hold', next);
  }

  private setMute(next: MuteState): void {
    if (next.audio === this.muteValue.audio && next.video === this.muteValue.video) return;
    this.muteValue = next;
    this.emit('mute', next);
  }

  private transition(to: CallState): void {
    const from = this.stateValue;
    assertTransition(from, to);
    this.stateValue = to;
    this.emit('stateChanged', to, from);
  }

  private require(what: string, states: readonly CallState[]): void {
    if (!states.includes(this.stateValue)) throw HandsetError.invalidState(what, this.stateValue);
  }

  private requireLive(what: string): void {
    if (this.stateValue === CallState.Ended) throw HandsetError.invalidState(what, this.stateValue);
  }
}
