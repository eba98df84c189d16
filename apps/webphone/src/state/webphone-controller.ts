import { batch, signal } from '@preact/signals';
import type { Call, CallRecord, Phone, PhoneOptions } from '@handset/sdk';
import { CallState, RegistrationState } from './sdk-states.js';
import {
  Session,
  Toasts,
  createI18n,
  createTheme,
  linkDomain,
  onlineSignal,
  type I18n,
  type ServiceWorkerHandle,
  type SignInFields,
  type SignInMode,
  type SignInOptions,
  type Translate,
} from '@handset/ui';
import { WebphoneApi, type WebphoneConfig } from '../api/webphone-api.js';
import { messages, type MessageKey } from '../messages.js';
import { AgentStore } from './agent-store.js';
import { CallActions } from './call-actions.js';
import { failureKey } from './call-view.js';
import { applyCodecPolicy } from './codec-policy.js';
import { ContactsStore } from './contacts-store.js';
import { HistoryStore } from './history-store.js';
import { CallNotifications } from './notifications.js';
import { readOverrides, type Overrides } from './overrides.js';
import { PhoneStore } from './phone-store.js';
import type { SdkModule } from './sdk-loader.js';
import { canPlaceCalls } from './secure-context.js';
import { UiState } from './ui-state.js';

/** What the web phone needs from its page (injected by main.tsx; tests pass their own). */
export interface WebphoneDeps {
  win: Window;
  storage: Storage;
  /** API base: `/api/v1` on the serving origin. */
  apiBase: string;
  ringtoneUrl: string;
  /** `<version>+<build id>` of this build, shown in the side menu. */
  buildUuid: string;
  serviceWorker: ServiceWorkerHandle;
  /** Logs for the SIP debug switch (the browser console). */
  log: (...args: unknown[]) => void;
  /** The SDK, loaded once as a chunk of its own (see sdk-loader.ts). */
  loadSdk: () => Promise<SdkModule>;
  /** Builds the SDK phone (tests pass a fake). */
  createPhone?: (o: PhoneOptions) => Phone;
}

/** The stores of a signed-in user with a loaded configuration. */
export interface SignedIn {
  config: WebphoneConfig;
  overrides: Overrides;
  history: HistoryStore;
  contacts: ContactsStore;
  agent: AgentStore;
}

const TRACE_KEY = 'handset.sipTrace';
/** Test hook: keep only loopback ICE candidates (two headless pages on one machine). */
const LOOPBACK_KEY = 'handset.e2e.loopback';

/**
 * The web phone's state and its lifecycle: session, configuration, the SDK phone and the stores
 * the pages read. Pages never touch the SDK's transport; they read signals and call actions.
 */
export class WebphoneController {
  readonly session: Session;
  readonly api: WebphoneApi;
  readonly i18n: I18n<MessageKey>;
  readonly theme;
  readonly toasts = new Toasts();
  readonly ui = new UiState();
  readonly online;
  /** Calls need a secure context (see canPlaceCalls). */
  readonly secure: boolean;
  readonly signInOptions = signal<SignInOptions | undefined>(undefined);
  readonly user = signal<SignedIn | undefined>(undefined);
  readonly store = signal<PhoneStore | undefined>(undefined);
  readonly actions: CallActions;
  readonly notifications: CallNotifications;
  private phoneRef: Phone | undefined;

  constructor(readonly d: WebphoneDeps) {
    const doc = d.win.document;
    this.session = new Session(d.storage, d.apiBase);
    this.api = new WebphoneApi(() => this.session.api);
    this.i18n = createI18n(messages, d.storage, d.win.navigator.languages ?? [], doc);
    this.theme = createTheme(d.storage, doc.documentElement);
    this.online = onlineSignal(d.win);
    this.secure = canPlaceCalls(d.win);
    this.actions = new CallActions(this);
    this.notifications = new CallNotifications(d.serviceWorker.registration, () => this.t);
  }

  /** The translator of the chosen language. */
  get t(): Translate<MessageKey> {
    return this.i18n.t.value;
  }

  /** The SDK phone of the signed-in user. */
  get phone(): Phone | undefined {
    return this.phoneRef;
  }

  /** Signs in again with a stored session, or shows the sign-in form. */
  async start(): Promise<void> {
    if (this.session.hasStoredToken) {
      try {
        await this.loadConfig();
        this.session.confirm();
        return;
      } catch {
        this.session.forget();
      }
    }
    this.signInOptions.value = await this.session.api.signInOptions(linkDomain(this.d.win.location.search));
  }

  /** The sign-in form's submit; rejects with the server's reason (the form shows it). */
  async signIn(mode: SignInMode, fields: SignInFields): Promise<void> {
    // bench/webphone measures sign-in to registered from this mark.
    performance.mark('handset:sign-in');
    await this.session.signIn(mode, fields, linkDomain(this.d.win.location.search));
    await this.loadConfig();
  }

  async signOut(): Promise<void> {
    try {
      await this.phoneRef?.unregister();
    } catch {
      /* leaving anyway */
    }
    this.closePhone();
    await this.session.signOut();
    this.d.win.document.title = 'Handset';
    batch(() => {
      this.user.value = undefined;
      this.ui.page.value = 'dialpad';
    });
    this.signInOptions.value = await this.session.api.signInOptions(linkDomain(this.d.win.location.search));
  }

  /** The title: the brand, or the user's name where `username_as_title` is on. */
  title(): string {
    const u = this.user.value;
    if (!u) return 'Handset';
    const c = u.config;
    return c.config.flags.usernameAsTitle ? (u.overrides.displayName ?? c.sip.displayName) : c.config.brandName;
  }

  /** Re-reads the overrides and builds the phone again (after Settings were saved). */
  async restartPhone(): Promise<void> {
    const u = this.user.value;
    if (!u) return;
    this.user.value = { ...u, overrides: readOverrides(this.d.storage, u.config.config.flags.editSettings) };
    this.d.win.document.title = this.title();
    await this.startPhone();
  }

  private async loadConfig(): Promise<void> {
    const config = await this.api.config();
    performance.mark('handset:config');
    const doc = this.d.win.document;
    const ext = config.sip.username;
    const user: SignedIn = {
      config,
      overrides: readOverrides(this.d.storage, config.config.flags.editSettings),
      history: new HistoryStore(this.d.storage, ext, () => this.api.cdrs()),
      contacts: new ContactsStore(this.api),
      agent: new AgentStore(config.agentState, this.api, (e) => this.toasts.error(e)),
    };
    let style = doc.getElementById('custom-css');
    if (!style) {
      style = doc.createElement('style');
      style.id = 'custom-css';
      doc.head.append(style);
    }
    // textContent, never innerHTML: the CSS cannot add markup (the server refuses </style> too).
    style.textContent = config.config.customCss;
    this.user.value = user;
    doc.title = this.title();
    await this.startPhone();
    void user.history.refresh();
    this.notifications.askOnFirstTap(doc);
  }

  private closePhone(): void {
    this.store.value?.close();
    this.phoneRef?.close();
    this.phoneRef = undefined;
    this.store.value = undefined;
  }

  private async startPhone(): Promise<void> {
    const u = this.user.value;
    if (!u) return;
    this.closePhone();
    const cfg = u.config;
    const o = u.overrides;
    const loopback = this.d.storage.getItem(LOOPBACK_KEY) === '1';
    const options: PhoneOptions = {
      server: o.wsUrl || cfg.wsUrl,
      uri: cfg.sip.uri,
      password: cfg.sip.password,
      displayName: o.displayName || cfg.sip.displayName,
      iceServers: cfg.iceServers,
      ringtone: this.d.ringtoneUrl,
      sipTrace: this.d.storage.getItem(TRACE_KEY) === '1',
      sdpTransform: (sdp) => {
        const out = applyCodecPolicy(sdp, cfg.config.codecs);
        return loopback ? loopbackOnly(out) : out;
      },
    };
    const phone = this.d.createPhone ? this.d.createPhone(options) : new (await this.d.loadSdk()).Phone(options);
    this.phoneRef = phone;
    const store = new PhoneStore(phone, { onEnded: (c, rec) => this.onCallEnded(c, rec) });
    this.store.value = store;
    phone.on('registrationStateChanged', (s) => {
      // bench/webphone reads the first registration of this page load.
      if (s === RegistrationState.Registered && performance.getEntriesByName('handset:registered').length === 0)
        performance.mark('handset:registered');
    });
    // Do not disturb declines direct calls here (486); ring groups skip the agent on the server.
    phone.on('incoming', (c) => this.onIncoming(c));
    phone.on('callAdded', (c) => this.watchCall(c));
    phone.on('error', (e) => this.toasts.show(e.message));
    try {
      await phone.register();
    } catch (err) {
      this.toasts.error(err);
    }
  }

  private watchCall(c: Call): void {
    c.on('stateChanged', (s) => {
      // Answered here, declined, or cancelled by the caller: the "incoming call" notification is stale.
      if (s !== CallState.Ringing) void this.notifications.close(c);
    });
    c.on('transfer', (r) =>
      this.toasts.show(r.ok ? this.t('transferred') : this.t('callFailed', { reason: r.cause ?? '' })),
    );
  }

  private onIncoming(c: Call): void {
    const u = this.user.value;
    if (u?.agent.state.value === 'dnd') return c.reject(486);
    const live = (this.phoneRef?.calls ?? []).filter((x) => x.state !== CallState.Ended).length;
    if (u?.config.config.flags.autoAnswer && live === 1) {
      void c.answer({ video: c.video }).catch((e: unknown) => this.toasts.error(e));
      return;
    }
    if (this.d.win.document.hidden) void this.notifications.show(c);
  }

  private onCallEnded(_c: Call, rec: CallRecord): void {
    this.user.value?.history.record(rec);
    if ((this.store.value?.calls.value.length ?? 0) === 0) this.ui.resetCallPanels();
    const why = rec.direction === 'outgoing' ? failureKey(rec.end) : undefined;
    if (why) this.toasts.show(this.t('callFailed', { reason: this.t(why) }));
  }
}

/** Keeps only loopback ICE candidates in an SDP (the e2e tests' two pages on one machine). */
function loopbackOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || /^(127\.0\.0\.1|::1)$/.test(l.split(' ')[4] ?? ''))
    .join('\r\n');
}
