import { HandsetError } from '../handset-error.js';
import { TypedEmitter } from '../typed-emitter.js';
import {
  EMBED_TAG,
  EMBED_VERSION,
  parseFromPhone,
  type CallSnapshot,
  type EmbedConfig,
  type EmbedMethod,
  type PhoneSnapshot,
} from './embed-protocol.js';

/** Events of an {@link EmbeddedPhone}, as the phone in the iframe reports them. */
export type EmbeddedPhoneEvents = {
  registration: [{ state: string }];
  connection: [{ state: string }];
  incoming: [CallSnapshot];
  call: [CallSnapshot];
  /** A finished call's record (the phone's local CDR). */
  cdr: [Record<string, unknown>];
  dtmf: [{ callId: string; tone: string }];
};

/** Options of {@link mount}. */
export interface MountOptions {
  /** URL of the web phone page (its origin is the only one whose messages are read). */
  src: string;
  /** How long to wait for the phone to load, and for each answer (default 15 s). */
  timeoutMs?: number;
  /** Extra iframe attributes (title, width, height, class). */
  attributes?: Record<string, string>;
}

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: HandsetError) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** Which call a method applies to (default the newest). */
export interface CallRef {
  callId?: string;
}

/**
 * The web phone in an iframe, driven by promises. Every answer and event is checked: it must
 * come from the iframe's window, on the `src` origin, in the protocol's shape.
 */
export class EmbeddedPhone extends TypedEmitter<EmbeddedPhoneEvents> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private destroyed = false;

  /** @internal use {@link mount}. */
  constructor(
    /** The iframe holding the phone. */
    readonly iframe: HTMLIFrameElement,
    private readonly origin: string,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  /** Sets the server and credentials (creates the phone inside). */
  configure(config: EmbedConfig): Promise<PhoneSnapshot> {
    return this.request('configure', [config]) as Promise<PhoneSnapshot>;
  }
  /** Connects and registers. */
  register(): Promise<PhoneSnapshot> {
    return this.request('register', []) as Promise<PhoneSnapshot>;
  }
  /** Unregisters. */
  unregister(): Promise<PhoneSnapshot> {
    return this.request('unregister', []) as Promise<PhoneSnapshot>;
  }
  /** Places a call. */
  call(target: string, o: { video?: boolean } = {}): Promise<CallSnapshot> {
    return this.request('call', [target, o]) as Promise<CallSnapshot>;
  }
  /** Answers the ringing call. */
  answer(o: CallRef & { video?: boolean } = {}): Promise<CallSnapshot> {
    return this.request('answer', [o]) as Promise<CallSnapshot>;
  }
  /** Rejects the ringing call. */
  async reject(o: CallRef = {}): Promise<void> {
    await this.request('reject', [o]);
  }
  /** Hangs up. */
  async hangup(o: CallRef = {}): Promise<void> {
    await this.request('hangup', [o]);
  }
  /** Holds the call. */
  async hold(o: CallRef = {}): Promise<void> {
    await this.request('hold', [o]);
  }
  /** Resumes the call. */
  async unhold(o: CallRef = {}): Promise<void> {
    await this.request('unhold', [o]);
  }
  /** Mutes the microphone (and camera with video). */
  async mute(o: CallRef & { audio?: boolean; video?: boolean } = {}): Promise<void> {
    await this.request('mute', [o]);
  }
  /** Unmutes. */
  async unmute(o: CallRef & { audio?: boolean; video?: boolean } = {}): Promise<void> {
    await this.request('unmute', [o]);
  }
  /** Sends DTMF tones. */
  async sendDTMF(tones: string, o: CallRef & { transport?: 'rfc4733' | 'info' } = {}): Promise<void> {
    await this.request('sendDTMF', [tones, o]);
  }
  /** Blind-transfers the call. */
  async transfer(target: string, o: CallRef = {}): Promise<void> {
    await this.request('transfer', [target, o]);
  }
  /** The phone's registration and calls. */
  getState(): Promise<PhoneSnapshot> {
    return this.request('getState', []) as Promise<PhoneSnapshot>;
  }

  /** Removes the iframe and rejects what is pending. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    window.removeEventListener('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(HandsetError.closed());
    }
    this.pending.clear();
    this.removeAllListeners();
    this.iframe.remove();
  }

  /** @internal the window listener (also used during mount). */
  readonly onMessage = (ev: MessageEvent): void => {
    if (ev.origin !== this.origin || ev.source !== this.iframe.contentWindow) return;
    const msg = parseFromPhone(ev.data);
    if (!msg) return;
    if (msg.kind === 'response') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new HandsetError(msg.error.reason as HandsetError['reason'], msg.error.message));
    } else if (msg.kind === 'event') {
      this.emit(msg.event, msg.data as never);
    }
  };

  private request(method: EmbedMethod, params: unknown[]): Promise<unknown> {
    if (this.destroyed) return Promise.reject(HandsetError.closed());
    const win = this.iframe.contentWindow;
    if (!win) return Promise.reject(HandsetError.embedFailed('the phone iframe is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(HandsetError.timeout(`embed ${method}`, this.timeoutMs));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // Addressed to the phone's origin only: if the iframe navigated elsewhere, the browser drops it.
      win.postMessage({ tag: EMBED_TAG, v: EMBED_VERSION, kind: 'request', id, method, params }, this.origin);
    });
  }
}

/**
 * Puts the web phone at `src` into `element` as an iframe (microphone, camera and autoplay
 * allowed) and resolves when it says it is ready.
 */
export function mount(element: HTMLElement, o: MountOptions): Promise<EmbeddedPhone> {
  let origin: string;
  try {
    const url = new URL(o.src, window.location.href);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    origin = url.origin;
  } catch {
    return Promise.reject(HandsetError.invalidArgument('src must be an http(s) URL'));
  }
  const timeoutMs = o.timeoutMs ?? 15_000;
  const iframe = document.createElement('iframe');
  iframe.allow = 'microphone; camera; autoplay; speaker-selection';
  iframe.title = 'Phone';
  for (const [k, v] of Object.entries(o.attributes ?? {})) iframe.setAttribute(k, v);
  const phone = new EmbeddedPhone(iframe, origin, timeoutMs);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      window.removeEventListener('message', onReady);
      phone.destroy();
      reject(HandsetError.timeout('loading the phone', timeoutMs));
    }, timeoutMs);
    const onReady = (ev: MessageEvent) => {
      if (ev.origin !== origin || ev.source !== iframe.contentWindow) return;
      if (parseFromPhone(ev.data)?.kind !== 'ready') return;
      clearTimeout(timer);
      window.removeEventListener('message', onReady);
      resolve(phone);
    };
    window.addEventListener('message', onReady);
    window.addEventListener('message', phone.onMessage);
    iframe.src = o.src;
    element.appendChild(iframe);
  });
}
