/**
 * The narrow, SDK-owned view of a SIP user agent and its sessions that {@link Phone} and
 * {@link Call} are written against. The JsSIP adapter implements it; unit tests implement it
 * with fakes. Nothing here is exported from the package: JsSIP's types stay behind it.
 */
import type { TypedEmitter } from './typed-emitter.js';

/** Media options of an INVITE or its answer. */
export interface MediaOptions {
  mediaConstraints: MediaStreamConstraints;
  pcConfig: RTCConfiguration;
  rtcOfferConstraints?: RTCOfferOptions;
}

/** Who caused a session event. */
export type Originator = 'local' | 'remote' | 'system';

/** How a session ended or failed. */
export interface SessionEnd {
  readonly originator: Originator;
  readonly cause: string;
  readonly statusCode?: number | undefined;
  /** The reason phrase of the final response. */
  readonly reasonPhrase?: string | undefined;
  /** The text of its Reason header (RFC 3326), when the server said why. */
  readonly reasonText?: string | undefined;
}

/** An SDP about to be sent or just received; listeners may rewrite `sdp` of a local one. */
export interface SdpEvent {
  readonly originator: Originator;
  readonly type: 'offer' | 'answer';
  sdp: string;
}

/** A REFER received inside the dialog (we are the transferee). */
export interface ReferRequest {
  readonly target: string;
  /** Calls the target; the new session arrives through the user agent's `newSession`. */
  accept(media: MediaOptions): void;
  reject(): void;
}

/** An INVITE with Replaces for this session (we are the transfer target). */
export interface ReplacesRequest {
  /** Accepts; the replacing session arrives through `newSession` and must be answered. */
  accept(): void;
  reject(): void;
}

/** Events of a {@link SessionPort}. */
export type SessionPortEvents = {
  progress: [];
  accepted: [];
  confirmed: [];
  ended: [SessionEnd];
  failed: [SessionEnd];
  hold: [Originator];
  unhold: [Originator];
  dtmf: [{ tone: string; durationMs: number; originator: Originator }];
  info: [{ contentType: string; body: string; originator: Originator }];
  peerconnection: [RTCPeerConnection];
  icecandidate: [{ ready: () => void }];
  sdp: [SdpEvent];
  refer: [ReferRequest];
  replaces: [ReplacesRequest];
};

/** What a {@link SessionPort.refer} reports back (from the NOTIFYs). */
export interface ReferCallbacks {
  onAccepted(): void;
  onFailed(cause: string): void;
}

/** One INVITE dialog. */
export interface SessionPort extends Pick<TypedEmitter<SessionPortEvents>, 'on'> {
  readonly connection: RTCPeerConnection | undefined;
  answer(media: MediaOptions): void;
  terminate(statusCode?: number): void;
  hold(): boolean;
  unhold(): boolean;
  /** Sends a re-INVITE (with iceRestart the offer carries new ICE credentials); `done` runs on its 2xx. */
  renegotiate(iceRestart: boolean, done?: () => void): boolean;
  mute(kinds: { audio: boolean; video: boolean }): void;
  unmute(kinds: { audio: boolean; video: boolean }): void;
  sendDtmf(tones: string, o: { transport: 'rfc4733' | 'info'; durationMs: number; gapMs: number }): void;
  refer(target: string, callbacks: ReferCallbacks, replaces?: SessionPort): void;
  isEstablished(): boolean;
}

/** A session the user agent created: ours (`local`) or an incoming INVITE (`remote`). */
export interface NewSession {
  readonly session: SessionPort;
  readonly originator: 'local' | 'remote';
  readonly callId: string;
  readonly remoteUri: string;
  readonly remoteDisplayName: string | undefined;
  /** Incoming: the offer has an m=video line. */
  readonly offersVideo: boolean;
}

/** Events of a {@link UserAgentPort}. */
export type UserAgentPortEvents = {
  connecting: [];
  connected: [];
  disconnected: [{ error: boolean }];
  registered: [];
  unregistered: [];
  registrationFailed: [{ cause: string; statusCode?: number | undefined }];
  newSession: [NewSession];
};

/** A SIP user agent over one WebSocket. */
export interface UserAgentPort extends Pick<TypedEmitter<UserAgentPortEvents>, 'on'> {
  /** Opens the WebSocket the first time. */
  start(): void;
  /** Opens it again after a loss (the reconnect policy decides when). */
  reconnect(): void;
  /** Unregisters, ends the sessions and closes the socket. */
  stop(): void;
  register(): void;
  unregister(): void;
  isConnected(): boolean;
  call(target: string, media: MediaOptions, extraHeaders: string[]): SessionPort;
}

/** What a user agent is built from. */
export interface UserAgentConfig {
  server: string;
  uri: string;
  password: string;
  displayName?: string | undefined;
  registerExpiresS: number;
  userAgent: string;
  /** SIP trace to the console-like logger (the web phone's `*#0*#` switch). */
  trace?: ((line: string) => void) | undefined;
}

/** Builds a {@link UserAgentPort}; the default is the JsSIP adapter. */
export type UserAgentFactory = (config: UserAgentConfig) => UserAgentPort;
