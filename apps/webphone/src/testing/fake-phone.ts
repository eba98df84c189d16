import { vi } from 'vitest';
import type { Call, CallEnd, CallRecord, Phone, PhoneEvents } from '@handset/sdk';
import { signal } from '@preact/signals';
import type { WebphoneConfig } from '../api/webphone-api.js';
import type { WebphoneDeps } from '../state/webphone-controller.js';

type Handler = (...a: unknown[]) => void;

/** A small event emitter with the SDK's `on` shape. */
class Emitter {
  private readonly handlers = new Map<string, Handler[]>();
  on(event: string, fn: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }
}

/** A call as the SDK reports it, driven by the test (state changes are emitted as the SDK does). */
export class FakeCall extends Emitter {
  state: string;
  holdState = { local: false, remote: false };
  muteState = { audio: false, video: false };
  readonly answer = vi.fn(() => Promise.resolve());
  readonly reject = vi.fn();
  readonly hangup = vi.fn();
  readonly sendDTMF = vi.fn();
  readonly hold = vi.fn();
  readonly unhold = vi.fn();
  readonly mute = vi.fn();
  readonly unmute = vi.fn();
  readonly peerConnection = undefined;
  readonly callId: string;

  constructor(
    readonly id: string,
    readonly direction: 'incoming' | 'outgoing',
    readonly remoteUri: string,
    readonly remoteDisplayName: string | undefined,
    state: string,
    readonly video = false,
  ) {
    super();
    this.state = state;
    this.callId = `${id}@test`;
  }

  /** Moves to `state` and says so, as the SDK's Call does. */
  moveTo(state: string): void {
    const before = this.state;
    this.state = state;
    this.emit('stateChanged', state, before);
  }

  getStats = () =>
    Promise.resolve({ quality: { grade: 'good', packetLoss: 0, jitterMs: 3, rttMs: 20 } } as unknown as Awaited<
      ReturnType<Call['getStats']>
    >);
}

/** The SDK's Phone as the web phone uses it; the test emits its events. */
export class FakePhone extends Emitter {
  registrationState = 'unregistered';
  readonly calls: FakeCall[] = [];
  readonly register = vi.fn(() => Promise.resolve());
  readonly unregister = vi.fn(() => Promise.resolve());
  readonly close = vi.fn();
  readonly call = vi.fn((target: string) => {
    const c = new FakeCall(`out-${this.calls.length}`, 'outgoing', `sip:${target}@example.com`, undefined, 'calling');
    this.add(c);
    return Promise.resolve(c);
  });
  readonly devices = {
    list: () => Promise.resolve([]),
    selected: { microphone: undefined, camera: undefined, speaker: undefined, ringer: undefined },
    select: () => Promise.resolve(),
    attach: () => Promise.resolve(),
  };

  /** A new call, as the SDK announces it (callAdded, then incoming for an incoming one). */
  add(c: FakeCall): void {
    this.calls.push(c);
    this.emit('callAdded', c);
    if (c.direction === 'incoming') this.emit('incoming', c);
  }

  /** The call ends the way `end` says. */
  end(c: FakeCall, end: CallEnd): void {
    c.moveTo('ended');
    const rec: CallRecord = {
      id: c.id,
      callId: c.callId,
      direction: c.direction,
      remoteUri: c.remoteUri,
      remoteDisplayName: c.remoteDisplayName,
      video: c.video,
      startedAt: Date.now() - 1000,
      answeredAt: undefined,
      endedAt: Date.now(),
      durationS: 0,
      end,
    };
    this.emit('callEnded', c, rec);
  }

  setRegistration(s: string): void {
    const before = this.registrationState;
    this.registrationState = s;
    this.emit('registrationStateChanged', s, before);
  }

  asPhone(): Phone {
    return this as unknown as Phone;
  }
}

/** A web phone configuration as the server answers it. */
export function fakeConfig(flags: Partial<WebphoneConfig['config']['flags']> = {}): WebphoneConfig {
  return {
    user: { id: 'u1', ext: '1001', domain: 'example.com', role: 'agent' },
    sip: { uri: 'sip:1001@example.com', username: '1001', domain: 'example.com', password: 's', displayName: 'Ann' },
    wsUrl: 'ws://127.0.0.1:9/sip',
    iceServers: [],
    config: {
      brandName: 'Handset',
      menuItems: [],
      flags: {
        hideUuid: false,
        menuRight: false,
        displayBalance: false,
        editSettings: false,
        register: false,
        usernameAsTitle: false,
        autoAnswer: false,
        agent: false,
        ...flags,
      },
      customCss: '',
      codecs: { delete: [], priority: [] },
    },
    balance: null,
    currency: null,
    agentState: 'available',
    build: { version: '0', uuid: 'x' },
  };
}

/** Deps for a controller over `phone`, with a signed-in session whose API answers `config`. */
export function fakeDeps(phone: FakePhone, config: WebphoneConfig): WebphoneDeps {
  const store = new Map<string, string>([['handset.token', 'hss_test']]);
  const storage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  } as Storage;
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string) => {
      const body = url.endsWith('/webphone/config') ? config : url.includes('/cdrs') ? { docs: [] } : {};
      return Promise.resolve(new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } }));
    }),
  );
  return {
    win: window,
    storage,
    apiBase: '/api/v1',
    ringtoneUrl: 'data:audio/wav;base64,',
    buildUuid: 'test',
    serviceWorker: { registration: Promise.resolve(undefined), update: signal(undefined) },
    log: () => undefined,
    // Only the *#0*# switch reaches for the SDK module here: its Phone is built and closed at once.
    loadSdk: () => Promise.resolve({ Phone: FakePhone } as unknown as Awaited<ReturnType<WebphoneDeps['loadSdk']>>),
    createPhone: () => phone.asPhone(),
  };
}

export type { PhoneEvents };
