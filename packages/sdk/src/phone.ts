import { Call, type CallRecord, type DtmfTransport } from './call.js';
import { CallState } from './call-state.js';
import { systemClock, type Clock } from './clock.js';
import { DeviceManager } from './device-manager.js';
import { HandsetError } from './handset-error.js';
import { createJsSipUserAgent } from './jssip-user-agent.js';
import { browserEnvironment, watchNetwork, type NetworkEnvironment, type WakeReason } from './network-watcher.js';
import { ExponentialBackoffPolicy, type ReconnectPolicy } from './reconnect-policy.js';
import { ConnectionState, RegistrationState } from './registration-state.js';
import type { MediaOptions, NewSession, UserAgentFactory, UserAgentPort } from './sip-ports.js';
import { TypedEmitter } from './typed-emitter.js';

/** How to build a {@link Phone}. */
export interface PhoneOptions {
  /** SIP over WebSocket URL: wss://pbx.example.com/sip. */
  server: string;
  /** The address of record: sip:1001@example.com. */
  uri: string;
  password: string;
  displayName?: string;
  /** STUN/TURN servers, or a function that fetches them per call (see fetchIceServers). */
  iceServers?: RTCIceServer[] | (() => Promise<RTCIceServer[]>);
  /** The SDP leaves at most this long after the first ICE candidate (default 1000 ms). */
  iceGatheringTimeoutMs?: number;
  /** When to retry a lost WebSocket (default exponential back-off, 0.5 s to 30 s). */
  reconnectPolicy?: ReconnectPolicy;
  /** REGISTER expiry in seconds (default 300). */
  registerExpiresS?: number;
  /** Default DTMF transport (default RFC 4733). */
  dtmfTransport?: DtmfTransport;
  /** Follow a REFER from the other side (we are transferred; default true). */
  acceptTransfers?: boolean;
  /** Rewrites every local SDP before it is sent (codec policy). */
  sdpTransform?: (sdp: string, type: 'offer' | 'answer') => string;
  /** URL of a ringtone played on the ringer output while a call rings in. */
  ringtone?: string;
  /** Play the remote audio in a hidden audio element on the speaker output (default true in a browser). */
  autoPlayAudio?: boolean;
  /** Log SIP traffic to the browser console (the web phone's debug switch). */
  sipTrace?: boolean;
  /** How long connect() and register() wait (default 10 s). */
  timeoutMs?: number;
  /** window/document for `online` and `visibilitychange` (default the browser's). */
  environment?: NetworkEnvironment;
  /** navigator.mediaDevices (default the browser's). */
  mediaDevices?: MediaDevices;
  clock?: Clock;
  /** The SIP stack (default JsSIP); tests pass a fake. */
  userAgentFactory?: UserAgentFactory;
  /** Where errors thrown by event listeners go (default dropped). */
  onListenerError?: (err: unknown, event: string) => void;
}

/** Events of a {@link Phone}. */
export type PhoneEvents = {
  registrationStateChanged: [state: RegistrationState, previous: RegistrationState];
  connectionStateChanged: [state: ConnectionState, previous: ConnectionState];
  /** A call is ringing in (call waiting: also while another call is active). */
  incoming: [Call];
  /** Any new call, incoming or outgoing (including one started by a transfer). */
  callAdded: [Call];
  /** A call ended; the record is its local history row. */
  callEnded: [Call, CallRecord];
  /** The WebSocket came back after a loss (registration and calls are being restored). */
  reconnected: [];
  /** A background failure (reconnect given up, re-REGISTER failed). */
  error: [HandsetError];
};

// eslint-disable-next-line no-control-regex -- control characters are exactly what a target must not hold
const TARGET = /^[^\s<>"\u0000-\u001f\u007f]{1,256}$/;

/**
 * A softphone: one SIP registration over one WebSocket, any number of calls. Connects,
 * registers, places and receives calls, and keeps itself connected (reconnect policy,
 * re-REGISTER on `online`/`visibilitychange`, ICE restart of active calls after a reconnect).
 */
export class Phone extends TypedEmitter<PhoneEvents> {
  /** Microphone, camera, speaker and ringer selection. */
  readonly devices: DeviceManager;

  private readonly ua: UserAgentPort;
  private readonly clock: Clock;
  private readonly policy: ReconnectPolicy;
  private readonly timeoutMs: number;
  private readonly callMap = new Map<string, Call>();
  private registration = RegistrationState.Unregistered;
  private connection = ConnectionState.Disconnected;
  private wantConnected = false;
  private wantRegistered = false;
  private started = false;
  private closed = false;
  private everConnected = false;
  private attempt = 0;
  private lostAt: number | undefined;
  private retryTimer: unknown;
  private nextCallId = 1;
  private pendingReplace: Call | undefined;
  private readonly stopWatching: () => void;
  private ringer: HTMLAudioElement | undefined;
  private readonly audioElements = new Map<string, HTMLAudioElement>();

  constructor(private readonly o: PhoneOptions) {
    super(o.onListenerError);
    if (typeof o.server !== 'string' || !/^wss?:\/\//i.test(o.server))
      throw HandsetError.invalidArgument('server must be a ws:// or wss:// URL');
    if (typeof o.uri !== 'string' || !/^sips?:[^@\s]+@[^@\s]+$/i.test(o.uri))
      throw HandsetError.invalidArgument('uri must look like sip:user@domain');
    if (typeof o.password !== 'string') throw HandsetError.invalidArgument('password must be a string');
    this.clock = o.clock ?? systemClock;
    this.policy = o.reconnectPolicy ?? new ExponentialBackoffPolicy();
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.devices = new DeviceManager(
      o.mediaDevices ?? (typeof navigator === 'undefined' ? undefined : navigator.mediaDevices),
    );
    this.ua = (o.userAgentFactory ?? createJsSipUserAgent)({
      server: o.server,
      uri: o.uri,
      password: o.password,
      displayName: o.displayName,
      registerExpiresS: o.registerExpiresS ?? 300,
      userAgent: 'Handset-SDK/0.1 (JsSIP 3.13)',
      trace: o.sipTrace ? () => undefined : undefined,
    });
    this.wireUserAgent();
    this.stopWatching = watchNetwork(o.environment ?? browserEnvironment(), (why) => this.onWake(why));
  }

  /** The registration with the server. */
  get registrationState(): RegistrationState {
    return this.registration;
  }
  /** The WebSocket to the server. */
  get connectionState(): ConnectionState {
    return this.connection;
  }
  /** Calls that have not ended, oldest first. */
  get calls(): readonly Call[] {
    return [...this.callMap.values()];
  }

  /** Opens the WebSocket; resolves when it is open. Idempotent. */
  connect(): Promise<void> {
    this.requireOpen();
    this.wantConnected = true;
    if (this.connection === ConnectionState.Connected) return Promise.resolve();
    const done = this.waitFor('connect', (resolve, reject) => [
      this.on('connectionStateChanged', (s) => {
        if (s === ConnectionState.Connected) resolve();
        else if (s === ConnectionState.Reconnecting || s === ConnectionState.Disconnected)
          reject(HandsetError.connectionFailed(`could not connect to ${this.o.server}`));
      }),
    ]);
    if (this.connection === ConnectionState.Disconnected) this.openSocket();
    return done;
  }

  /** Connects if needed and registers; rejects with authentication-failed on a bad password. */
  async register(): Promise<void> {
    this.requireOpen();
    this.wantRegistered = true;
    await this.connect();
    if (this.registration === RegistrationState.Registered) return;
    const done = this.waitFor('register', (resolve, reject) => [
      this.on('registrationStateChanged', (s) => {
        if (s === RegistrationState.Registered) resolve();
        else if (s === RegistrationState.Failed)
          reject(this.lastRegistrationError ?? HandsetError.registrationFailed('failed'));
      }),
    ]);
    this.setRegistration(RegistrationState.Registering);
    this.ua.register();
    return done;
  }

  /** Removes the registration (calls continue). */
  async unregister(): Promise<void> {
    this.requireOpen();
    this.wantRegistered = false;
    if (this.registration === RegistrationState.Unregistered) return;
    if (this.connection !== ConnectionState.Connected) {
      this.setRegistration(RegistrationState.Unregistered);
      return;
    }
    const done = this.waitFor('unregister', (resolve) => [
      this.on('registrationStateChanged', (s) => {
        if (s === RegistrationState.Unregistered) resolve();
      }),
    ]);
    this.ua.unregister();
    return done;
  }

  /** Places a call to `target` (an extension, a number or a SIP URI). */
  async call(target: string, o: { video?: boolean; extraHeaders?: string[] } = {}): Promise<Call> {
    this.requireOpen();
    if (typeof target !== 'string' || !TARGET.test(target.trim()))
      throw HandsetError.invalidArgument('call needs a target without spaces or control characters');
    if (this.connection !== ConnectionState.Connected) throw HandsetError.invalidState('call', this.connection);
    const video = o.video === true;
    const media = await this.media(video);
    const headers = [...(o.extraHeaders ?? []), ...(video ? ['X-Videocall: true'] : [])];
    if (headers.some((h) => !/^[A-Za-z0-9-]{1,64}:[^\r\n]{0,1024}$/.test(h)))
      throw HandsetError.invalidArgument('extraHeaders must be single "Name: value" lines');
    this.outgoingVideo = video;
    try {
      const session = this.ua.call(target.trim(), media, headers);
      const call = this.calls.find((c) => c.session === session);
      if (!call) throw HandsetError.callFailed('the SIP stack did not start the call');
      return call;
    } catch (err) {
      if (err instanceof HandsetError) throw err;
      throw HandsetError.callFailed(String(err));
    } finally {
      this.outgoingVideo = false;
    }
  }

  /** Makes `call` the one in conversation: every other active call goes on hold, `call` resumes. */
  swap(call: Call): void {
    if (!this.callMap.has(call.id) || call.state !== CallState.Active)
      throw HandsetError.invalidState('swap to', call.state);
    for (const other of this.calls)
      if (other !== call && other.state === CallState.Active && !other.holdState.local) other.hold();
    if (call.holdState.local) call.unhold();
  }

  /** Ends every call, unregisters, closes the socket and stops all timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wantConnected = false;
    this.wantRegistered = false;
    this.clock.clearTimeout(this.retryTimer);
    this.stopWatching();
    for (const c of this.calls) c.hangup();
    this.stopRinger();
    if (this.started) this.ua.stop();
    this.setConnection(ConnectionState.Disconnected);
    this.setRegistration(RegistrationState.Unregistered);
    for (const el of this.audioElements.values()) el.srcObject = null;
    this.audioElements.clear();
  }

  private outgoingVideo = false;
  private lastRegistrationError: HandsetError | undefined;

  private wireUserAgent(): void {
    const ua = this.ua;
    ua.on('connecting', () => {
      if (this.connection === ConnectionState.Disconnected) this.setConnection(ConnectionState.Connecting);
    });
    ua.on('connected', () => this.onConnected());
    ua.on('disconnected', () => this.onDisconnected());
    ua.on('registered', () => {
      this.lastRegistrationError = undefined;
      this.setRegistration(RegistrationState.Registered);
    });
    ua.on('unregistered', () => {
      // JsSIP also reports the loss of the socket as 'unregistered': wanted means "coming back".
      this.setRegistration(
        this.wantRegistered && !this.closed ? RegistrationState.Registering : RegistrationState.Unregistered,
      );
    });
    ua.on('registrationFailed', (e) => {
      this.lastRegistrationError = HandsetError.registrationFailed(e.cause, e.statusCode);
      // A REGISTER lost with the socket is retried after the reconnect, not a failure.
      if (this.connection !== ConnectionState.Connected && this.wantRegistered) return;
      this.setRegistration(RegistrationState.Failed);
      this.emit('error', this.lastRegistrationError);
    });
    ua.on('newSession', (n) => this.onNewSession(n));
  }

  private openSocket(): void {
    this.setConnection(ConnectionState.Connecting);
    if (!this.started) {
      this.started = true;
      this.ua.start();
    } else {
      this.ua.reconnect();
    }
  }

  private onConnected(): void {
    this.clock.clearTimeout(this.retryTimer);
    const wasReconnect = this.everConnected;
    this.everConnected = true;
    this.attempt = 0;
    this.lostAt = undefined;
    this.setConnection(ConnectionState.Connected);
    if (!wasReconnect) return;
    if (this.wantRegistered) {
      this.setRegistration(RegistrationState.Registering);
      this.ua.register();
    }
    // The media path may have changed with the network (new interface, NAT rebinding).
    for (const c of this.calls) c.restartIce();
    this.emit('reconnected');
  }

  private onDisconnected(): void {
    if (this.closed || !this.wantConnected) {
      this.setConnection(ConnectionState.Disconnected);
      return;
    }
    if (this.registration === RegistrationState.Registered) this.setRegistration(RegistrationState.Registering);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.lostAt ??= this.clock.now();
    this.attempt += 1;
    const delay = this.policy.nextRetryDelayMs({ attempt: this.attempt, elapsedMs: this.clock.now() - this.lostAt });
    if (delay === null) {
      this.wantConnected = false;
      this.setConnection(ConnectionState.Disconnected);
      if (this.wantRegistered) this.setRegistration(RegistrationState.Failed);
      this.emit('error', HandsetError.connectionFailed(`gave up reconnecting after ${this.attempt - 1} attempts`));
      return;
    }
    this.setConnection(ConnectionState.Reconnecting);
    this.retryTimer = this.clock.setTimeout(() => {
      if (!this.closed && this.connection === ConnectionState.Reconnecting) this.ua.reconnect();
    }, delay);
  }

  private onWake(why: WakeReason): void {
    if (this.closed) return;
    if (this.connection === ConnectionState.Reconnecting) {
      // The network is back: try now instead of sleeping out the back-off.
      this.clock.clearTimeout(this.retryTimer);
      this.attempt = 0;
      this.ua.reconnect();
    } else if (this.connection === ConnectionState.Connected && this.wantRegistered) {
      // A frozen tab or a new network may have lost the binding silently: refresh it.
      void why;
      this.ua.register();
    }
  }

  private onNewSession(n: NewSession): void {
    const incoming = n.originator === 'remote';
    const call = new Call(
      {
        id: `call-${this.nextCallId++}`,
        session: n.session,
        direction: incoming ? 'incoming' : 'outgoing',
        callId: n.callId,
        remoteUri: n.remoteUri,
        remoteDisplayName: n.remoteDisplayName,
        video: incoming ? n.offersVideo : this.outgoingVideo,
      },
      {
        clock: this.clock,
        media: (video) => this.media(video),
        iceGatheringTimeoutMs: this.o.iceGatheringTimeoutMs ?? 1000,
        dtmfTransport: this.o.dtmfTransport ?? 'rfc4733',
        sdpTransform: this.o.sdpTransform,
        onListenerError: this.o.onListenerError ?? (() => undefined),
      },
    );
    this.callMap.set(call.id, call);
    n.session.on('refer', (r) => {
      if (this.o.acceptTransfers === false) return r.reject();
      void this.media(call.video).then((m) => r.accept(m));
    });
    n.session.on('replaces', (r) => {
      this.pendingReplace = call;
      try {
        r.accept();
      } finally {
        this.pendingReplace = undefined;
      }
    });
    if (incoming && this.pendingReplace) {
      // Attended transfer towards us: the new dialog replaces one we already answered.
      call.replaces = this.pendingReplace;
      void call.answer({ video: this.pendingReplace.video }).catch(() => undefined);
    }
    call.on('remoteStream', (s) => this.playRemote(call, s));
    call.on('stateChanged', () => this.updateRinger());
    call.on('ended', () => {
      this.callMap.delete(call.id);
      const el = this.audioElements.get(call.id);
      if (el) el.srcObject = null;
      this.audioElements.delete(call.id);
      this.updateRinger();
      this.emit('callEnded', call, call.record());
    });
    this.emit('callAdded', call);
    if (incoming && !call.replaces) {
      this.emit('incoming', call);
      this.updateRinger();
    }
  }

  private async media(video: boolean): Promise<MediaOptions> {
    const ice = this.o.iceServers;
    const iceServers = typeof ice === 'function' ? await ice() : (ice ?? []);
    return { mediaConstraints: this.devices.constraints(video), pcConfig: { iceServers } };
  }

  private playRemote(call: Call, stream: MediaStream): void {
    if (this.o.autoPlayAudio === false || typeof Audio === 'undefined') return;
    let el = this.audioElements.get(call.id);
    if (!el) {
      el = new Audio();
      el.autoplay = true;
      this.audioElements.set(call.id, el);
      void this.devices.attach(el, 'speaker');
    }
    el.srcObject = stream;
    void el.play().catch(() => undefined);
  }

  private updateRinger(): void {
    const ringing = this.calls.some((c) => c.direction === 'incoming' && c.state === CallState.Ringing);
    if (ringing && this.o.ringtone && !this.ringer && typeof Audio !== 'undefined') {
      const el = new Audio(this.o.ringtone);
      el.loop = true;
      this.ringer = el;
      void this.devices.attach(el, 'ringer').then(() => el.play().catch(() => undefined));
    } else if (!ringing) {
      this.stopRinger();
    }
  }

  private stopRinger(): void {
    if (!this.ringer) return;
    this.ringer.pause();
    this.devices.detach(this.ringer);
    this.ringer = undefined;
  }

  private setRegistration(s: RegistrationState): void {
    const prev = this.registration;
    if (prev === s) return;
    this.registration = s;
    this.emit('registrationStateChanged', s, prev);
  }

  private setConnection(s: ConnectionState): void {
    const prev = this.connection;
    if (prev === s) return;
    this.connection = s;
    this.emit('connectionStateChanged', s, prev);
  }

  private requireOpen(): void {
    if (this.closed) throw HandsetError.closed();
  }

  /**
   * A promise settled by the listeners `subscribe` installs, rejected with a timeout after
   * {@link timeoutMs} or when the phone closes; the listeners are removed either way.
   */
  private waitFor(
    what: string,
    subscribe: (resolve: () => void, reject: (e: HandsetError) => void) => Array<() => void>,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let offs: Array<() => void> = [];
      const settle = (fn: () => void) => {
        this.clock.clearTimeout(timer);
        for (const off of offs) off();
        fn();
      };
      const timer = this.clock.setTimeout(
        () => settle(() => reject(HandsetError.timeout(what, this.timeoutMs))),
        this.timeoutMs,
      );
      offs = [
        ...subscribe(
          () => settle(resolve),
          (e) => settle(() => reject(e)),
        ),
        this.on('connectionStateChanged', () => {
          if (this.closed) settle(() => reject(HandsetError.closed()));
        }),
      ];
    });
  }
}
