/**
 * The only file that touches JsSIP: adapts JsSIP 3.13's UA and RTCSession to the SDK's
 * {@link UserAgentPort} and {@link SessionPort}, so JsSIP's types never leave it.
 */
import JsSIP from 'jssip';
import { reasonText } from './call-failure.js';
import type { RTCSession } from 'jssip/lib/RTCSession.js';
import type { IncomingRTCSessionEvent, OutgoingRTCSessionEvent } from 'jssip/lib/UA.js';
import type {
  NewSession,
  Originator,
  SessionPort,
  SessionPortEvents,
  UserAgentConfig,
  UserAgentPort,
  UserAgentPortEvents,
} from './sip-ports.js';
import { TypedEmitter } from './typed-emitter.js';

/**
 * JsSIP's own reconnect timer is pushed out of reach (about 23 days) so the SDK's injected
 * policy decides; the timer is cleared whenever the transport connects or the UA stops.
 */
const JSSIP_RECOVERY_S = 2_000_000;

/** JsSIP's Transport, which UA exposes as `transport` but does not declare. */
interface JsSipTransport {
  connect(): void;
  isConnected(): boolean;
}

// JsSIP types `debug` with @types/debug, which is not installed: only these two calls are used.
const jssipDebug = JsSIP.debug as unknown as { enable(namespaces: string): void; disable(): void };

const originatorOf = (o: unknown): Originator => (o === 'local' || o === 'remote' ? o : 'system');

/** A JsSIP RTCSession seen through {@link SessionPort}. */
class JsSipSession extends TypedEmitter<SessionPortEvents> implements SessionPort {
  constructor(readonly raw: RTCSession) {
    super();
    const s = raw;
    const endOf = (e: { originator: unknown; cause: unknown; message?: unknown }) => {
      const msg = e.message as
        { status_code?: unknown; reason_phrase?: unknown; getHeader?: (name: string) => unknown } | undefined;
      const reason = typeof msg?.getHeader === 'function' ? msg.getHeader('Reason') : undefined;
      return {
        originator: originatorOf(e.originator),
        cause: String(e.cause),
        statusCode: typeof msg?.status_code === 'number' ? msg.status_code : undefined,
        reasonPhrase: typeof msg?.reason_phrase === 'string' ? msg.reason_phrase : undefined,
        reasonText: reasonText(typeof reason === 'string' ? reason : undefined),
      };
    };
    s.on('progress', () => this.emit('progress'));
    s.on('accepted', () => this.emit('accepted'));
    s.on('confirmed', () => this.emit('confirmed'));
    s.on('ended', (e) => this.emit('ended', endOf(e)));
    s.on('failed', (e) => this.emit('failed', endOf(e)));
    s.on('hold', (e: { originator: unknown }) => this.emit('hold', originatorOf(e.originator)));
    s.on('unhold', (e: { originator: unknown }) => this.emit('unhold', originatorOf(e.originator)));
    s.on('newDTMF', (e: { originator: unknown; dtmf: { tone: unknown; duration: unknown } }) =>
      this.emit('dtmf', {
        tone: String(e.dtmf.tone),
        durationMs: Number(e.dtmf.duration),
        originator: originatorOf(e.originator),
      }),
    );
    s.on('newInfo', (e: { originator: unknown; info: { contentType: unknown; body?: unknown } }) =>
      this.emit('info', {
        contentType: String(e.info.contentType),
        body: typeof e.info.body === 'string' ? e.info.body : '',
        originator: originatorOf(e.originator),
      }),
    );
    s.on('peerconnection', (e) => this.emit('peerconnection', e.peerconnection));
    s.on('icecandidate', (e) => this.emit('icecandidate', { ready: e.ready }));
    s.on('sdp', (e) => {
      const ev = {
        originator: originatorOf(e.originator),
        type: e.type === 'answer' ? 'answer' : 'offer',
        sdp: e.sdp,
      } as const;
      const mutable = { ...ev };
      this.emit('sdp', mutable);
      // JsSIP sends (or applies) whatever `e.sdp` holds after its listeners ran.
      e.sdp = mutable.sdp;
    });
    s.on('refer', (e) =>
      this.emit('refer', {
        target: String((e.request as unknown as { refer_to?: { uri?: { toString(): string } } }).refer_to?.uri ?? ''),
        accept: (media) => void (e.accept as (cb: () => void, o: object) => unknown)(() => undefined, media),
        reject: () => e.reject(),
      }),
    );
    s.on('replaces', (e) =>
      this.emit('replaces', {
        accept: () => void (e.accept as (cb: () => void) => unknown)(() => undefined),
        reject: () => e.reject(),
      }),
    );
  }

  get connection(): RTCPeerConnection | undefined {
    return this.raw.connection ?? undefined;
  }
  answer(media: Parameters<SessionPort['answer']>[0]): void {
    this.raw.answer(media);
  }
  terminate(statusCode?: number): void {
    if (this.raw.isEnded()) return;
    this.raw.terminate(statusCode ? { status_code: statusCode } : undefined);
  }
  hold(): boolean {
    return this.raw.hold();
  }
  unhold(): boolean {
    return this.raw.unhold();
  }
  renegotiate(iceRestart: boolean, done?: () => void): boolean {
    return this.raw.renegotiate({ rtcOfferConstraints: { iceRestart } }, done);
  }
  mute(kinds: { audio: boolean; video: boolean }): void {
    this.raw.mute(kinds);
  }
  unmute(kinds: { audio: boolean; video: boolean }): void {
    this.raw.unmute(kinds);
  }
  sendDtmf(tones: string, o: { transport: 'rfc4733' | 'info'; durationMs: number; gapMs: number }): void {
    this.raw.sendDTMF(tones, {
      duration: o.durationMs,
      interToneGap: o.gapMs,
      // JsSIP names RFC 4733 by its predecessor, RFC 2833.
      transportType: (o.transport === 'info' ? 'INFO' : 'RFC2833') as never,
    });
  }
  refer(target: string, cb: { onAccepted(): void; onFailed(cause: string): void }, replaces?: SessionPort): void {
    this.raw.refer(target, {
      ...(replaces instanceof JsSipSession ? { replaces: replaces.raw } : {}),
      eventHandlers: {
        accepted: () => cb.onAccepted(),
        failed: (e: { cause?: string }) => cb.onFailed(e?.cause ?? 'failed'),
        requestFailed: (e: { cause?: string }) => cb.onFailed(e?.cause ?? 'request failed'),
      },
    });
  }
  isEstablished(): boolean {
    return this.raw.isEstablished();
  }
}

/** JsSIP's UA seen through {@link UserAgentPort}. */
class JsSipUserAgent extends TypedEmitter<UserAgentPortEvents> implements UserAgentPort {
  private readonly ua: JsSIP.UA;

  constructor(c: UserAgentConfig) {
    super();
    if (c.trace) jssipDebug.enable('JsSIP:Transport');
    this.ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(c.server)],
      uri: c.uri,
      password: c.password,
      ...(c.displayName ? { display_name: c.displayName } : {}),
      register: false,
      register_expires: c.registerExpiresS,
      session_timers: false,
      user_agent: c.userAgent,
      connection_recovery_min_interval: JSSIP_RECOVERY_S,
      connection_recovery_max_interval: JSSIP_RECOVERY_S,
    });
    const ua = this.ua;
    ua.on('connecting', () => this.emit('connecting'));
    ua.on('connected', () => this.emit('connected'));
    ua.on('disconnected', (e) => this.emit('disconnected', { error: Boolean(e.error) }));
    ua.on('registered', () => this.emit('registered'));
    ua.on('unregistered', () => this.emit('unregistered'));
    ua.on('registrationFailed', (e) =>
      this.emit('registrationFailed', { cause: String(e.cause), statusCode: e.response?.status_code }),
    );
    ua.on('newRTCSession', (e: IncomingRTCSessionEvent | OutgoingRTCSessionEvent) => {
      const s = e.session;
      const body = (e.request as unknown as { body?: unknown }).body;
      const news: NewSession = {
        session: new JsSipSession(s),
        originator: (e.originator as string) === 'local' ? 'local' : 'remote',
        callId: String(e.request.getHeader('Call-ID') ?? ''),
        remoteUri: s.remote_identity?.uri?.toString() ?? '',
        remoteDisplayName: s.remote_identity?.display_name || undefined,
        offersVideo: typeof body === 'string' && /^m=video /m.test(body),
      };
      this.emit('newSession', news);
    });
  }

  private get transport(): JsSipTransport {
    return (this.ua as unknown as { transport: JsSipTransport }).transport;
  }
  start(): void {
    this.ua.start();
  }
  reconnect(): void {
    this.transport.connect();
  }
  stop(): void {
    this.ua.stop();
  }
  register(): void {
    this.ua.register();
  }
  unregister(): void {
    this.ua.unregister();
  }
  isConnected(): boolean {
    return this.ua.isConnected();
  }
  call(target: string, media: Parameters<UserAgentPort['call']>[1], extraHeaders: string[]): SessionPort {
    // newRTCSession fires inside ua.call(), so the Phone has already wrapped this session.
    const raw = this.ua.call(target, { ...media, extraHeaders });
    return this.sessions.get(raw) ?? new JsSipSession(raw);
  }

  /** Sessions wrapped in newRTCSession, so call() returns the same wrapper the Phone saw. */
  private readonly sessions = new WeakMap<RTCSession, SessionPort>();

  protected override emit<E extends keyof UserAgentPortEvents>(event: E, ...args: UserAgentPortEvents[E]): void {
    if (event === 'newSession') {
      const n = args[0] as NewSession;
      this.sessions.set((n.session as JsSipSession).raw, n.session);
    }
    super.emit(event, ...args);
  }
}

/** The default {@link UserAgentFactory}: JsSIP over a WebSocket. */
export function createJsSipUserAgent(config: UserAgentConfig): UserAgentPort {
  return new JsSipUserAgent(config);
}
