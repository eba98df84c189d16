import type {
  MediaOptions,
  NewSession,
  ReferCallbacks,
  SessionPort,
  SessionPortEvents,
  UserAgentConfig,
  UserAgentPort,
  UserAgentPortEvents,
} from '../sip-ports.js';
import { TypedEmitter } from '../typed-emitter.js';

/** A session whose every SIP action is recorded and whose events the test fires. */
export class FakeSession extends TypedEmitter<SessionPortEvents> implements SessionPort {
  connection: RTCPeerConnection | undefined = undefined;
  readonly actions: string[] = [];
  answered: MediaOptions | undefined;
  terminated: number | undefined | 'yes';
  established = false;
  referred: { target: string; cb: ReferCallbacks; replaces: SessionPort | undefined } | undefined;
  dtmf: { tones: string; transport: string } | undefined;
  renegotiateDone: (() => void) | undefined;
  busy = false;

  fire<E extends keyof SessionPortEvents>(event: E, ...args: SessionPortEvents[E]): void {
    this.emit(event, ...args);
  }
  answer(media: MediaOptions): void {
    this.actions.push('answer');
    this.answered = media;
  }
  terminate(statusCode?: number): void {
    this.actions.push(`terminate${statusCode ? ` ${statusCode}` : ''}`);
    this.terminated = statusCode ?? 'yes';
  }
  hold(): boolean {
    this.actions.push('hold');
    if (this.busy) return false;
    this.emit('hold', 'local');
    return true;
  }
  unhold(): boolean {
    this.actions.push('unhold');
    if (this.busy) return false;
    this.emit('unhold', 'local');
    return true;
  }
  renegotiate(iceRestart: boolean, done?: () => void): boolean {
    this.actions.push(`renegotiate${iceRestart ? ' ice-restart' : ''}`);
    this.renegotiateDone = done;
    return true;
  }
  mute(k: { audio: boolean; video: boolean }): void {
    this.actions.push(`mute ${k.audio ? 'audio' : ''}${k.video ? 'video' : ''}`);
  }
  unmute(k: { audio: boolean; video: boolean }): void {
    this.actions.push(`unmute ${k.audio ? 'audio' : ''}${k.video ? 'video' : ''}`);
  }
  sendDtmf(tones: string, o: { transport: 'rfc4733' | 'info' }): void {
    this.actions.push(`dtmf ${tones} ${o.transport}`);
    this.dtmf = { tones, transport: o.transport };
  }
  refer(target: string, cb: ReferCallbacks, replaces?: SessionPort): void {
    this.actions.push(`refer ${target}`);
    this.referred = { target, cb, replaces };
  }
  isEstablished(): boolean {
    return this.established;
  }
}

/** A user agent driven by the test: it records what the Phone asks and fires what the server would. */
export class FakeUserAgent extends TypedEmitter<UserAgentPortEvents> implements UserAgentPort {
  readonly actions: string[] = [];
  connected = false;
  lastCall: { target: string; media: MediaOptions; headers: string[]; session: FakeSession } | undefined;

  constructor(readonly config: UserAgentConfig) {
    super();
  }
  fire<E extends keyof UserAgentPortEvents>(event: E, ...args: UserAgentPortEvents[E]): void {
    if (event === 'connected') this.connected = true;
    if (event === 'disconnected') this.connected = false;
    this.emit(event, ...args);
  }
  start(): void {
    this.actions.push('start');
  }
  reconnect(): void {
    this.actions.push('reconnect');
  }
  stop(): void {
    this.actions.push('stop');
  }
  register(): void {
    this.actions.push('register');
  }
  unregister(): void {
    this.actions.push('unregister');
  }
  isConnected(): boolean {
    return this.connected;
  }
  call(target: string, media: MediaOptions, headers: string[]): SessionPort {
    const session = new FakeSession();
    this.actions.push(`call ${target}`);
    this.lastCall = { target, media, headers, session };
    this.fire('newSession', {
      session,
      originator: 'local',
      callId: `cid-${this.actions.length}`,
      remoteUri: `sip:${target}`,
      remoteDisplayName: undefined,
      offersVideo: false,
    });
    return session;
  }
  /** An INVITE arrives. */
  incoming(from = 'sip:1002@example.test', offersVideo = false): FakeSession {
    const session = new FakeSession();
    const n: NewSession = {
      session,
      originator: 'remote',
      callId: `in-${Math.random()}`,
      remoteUri: from,
      remoteDisplayName: 'Bob',
      offersVideo,
    };
    this.fire('newSession', n);
    return session;
  }
}
