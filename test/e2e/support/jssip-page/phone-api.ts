/** What the JsSIP test page exposes as `window.phone`; shared by the page script and the Node-side driver. */

/** How a REGISTER attempt ended, as JsSIP reported it. */
export type RegisterResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly cause: string };

/** The state of the page's current call, driven by JsSIP RTCSession events. */
export type CallState = 'idle' | 'ringing' | 'progress' | 'confirmed' | 'ended' | 'failed';

/** One snapshot of the current call, with the cause JsSIP gave when it ended or failed. */
export interface CallInfo {
  readonly state: CallState;
  readonly direction: 'incoming' | 'outgoing' | null;
  /** The dialog's Call-ID (what a CDR is keyed by). */
  readonly callId: string | null;
  readonly cause: string | null;
  /** Who ended the call: 'local', 'remote' or 'system' (JsSIP's originator). */
  readonly endedBy: string | null;
  readonly remoteIdentity: string | null;
}

/** Audio RTP counters from RTCPeerConnection.getStats() (inbound-rtp and outbound-rtp, kind audio). */
export interface AudioStats {
  readonly inboundBytes: number;
  readonly inboundPackets: number;
  readonly outboundBytes: number;
  readonly outboundPackets: number;
  /** The selected ICE candidate pair's state, or null before one is chosen. */
  readonly candidatePair: string | null;
  /** Local candidate address of the selected pair (shows which interface carried the media). */
  readonly localAddress: string | null;
}

/** The functions on `window.phone` (every method is called through page.evaluate). */
export interface PhoneApi {
  register(wsUrl: string, uri: string, password: string, timeoutMs?: number): Promise<RegisterResult>;
  call(target: string): void;
  answer(): void;
  hangup(): void;
  callInfo(): CallInfo;
  getStats(): Promise<AudioStats>;
  /** ICE candidate lines of the last SDP this page sent (after the loopback filter). */
  sentCandidates(): string[];
  stop(): Promise<void>;
}
