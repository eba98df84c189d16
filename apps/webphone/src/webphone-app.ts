import {
  CallState,
  Phone,
  RegistrationState,
  type Call,
  type CallFailure,
  type CallRecord,
  type CallStats,
} from '@handset/sdk';
import { agentView } from './agent-view.js';
import {
  ApiClient,
  type AgentState,
  type AgentSummary,
  type Contact,
  type MenuItem,
  type SignInOptions,
  type WebphoneConfig,
} from './api-client.js';
import { mergeHistory, userPart, type HistoryEntry } from './call-history.js';
import { applyCodecPolicy } from './codec-policy.js';
import { h, icon, type Child } from './dom.js';
import { LANGUAGES, pickLanguage, translator, type Language, type MessageKey, type Translate } from './i18n.js';
import { signInView, type SignInFields, type SignInMode } from './sign-in-view.js';
import { setSipTrace } from './sip-trace.js';

/** What the app needs from its page (injected so the boot code decides, and tests could swap them). */
export interface WebphoneAppDeps {
  root: HTMLElement;
  storage: Storage;
  /** API base: `/api/v1` on the serving origin. */
  apiBase: string;
  /** Ringtone URL (a file of the build). */
  ringtoneUrl: string;
  /** `<version>+<build id>` of this build, shown in the side menu. */
  buildUuid: string;
  /** The service worker registration, once known (notifications while hidden). */
  serviceWorker: () => Promise<ServiceWorkerRegistration | undefined>;
  /** Logs for the SIP debug switch (the browser console). */
  log: (...args: unknown[]) => void;
}

type Page = MenuItem['page'];
type NavEntry = { page: Page; title: string; icon: string; glyph?: string | undefined; item?: MenuItem };

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;
/** SVG paths of the footer icons (24x24, stroked). */
const ICONS: Record<Page, string> = {
  agent: 'M4 14v-2a8 8 0 0 1 16 0v2M4 14h3v6H4zM17 14h3v6h-3z',
  history: 'M3 12a9 9 0 1 0 3-6.7L3 8M3 3v5h5M12 7v5l3 3',
  dialpad: 'M6 5h.01M12 5h.01M18 5h.01M6 11h.01M12 11h.01M18 11h.01M6 17h.01M12 17h.01M18 17h.01M12 21h.01',
  contacts:
    'M16 20v-2a4 4 0 0 0-8 0v2M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6M20 20v-2a3 3 0 0 0-2-2.8M4 20v-2a3 3 0 0 1 2-2.8',
  settings:
    'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6M19 12l2-1-2-4-2 .5-1.5-1L15 4h-4l-.5 2.5-1.5 1L7 7 5 11l2 1v0l-2 1 2 4 2-.5 1.5 1L11 20h4l.5-2.5 1.5-1 2 .5 2-4z',
  custom: 'M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z',
  iframe: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18',
};
const PHONE_ICON =
  'M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z';
const DEBUG_CODE = '*#0*#';
const STORE = {
  token: 'handset.token',
  lang: 'handset.lang',
  theme: 'handset.theme',
  trace: 'handset.sipTrace',
  overrides: 'handset.overrides',
  history: (ext: string) => `handset.history.${ext}`,
  /** Test hook: keep only loopback ICE candidates (two headless pages on one machine). */
  loopback: 'handset.e2e.loopback',
};

/** The words for each way a call can fail (the SDK tells which). */
const FAILURE_TEXT: Record<CallFailure, MessageKey> = {
  busy: 'failBusy',
  declined: 'failDeclined',
  'not-found': 'failNotFound',
  'no-answer': 'failNoAnswer',
  unavailable: 'failUnavailable',
  media: 'failMedia',
  cancelled: 'failOther',
  failed: 'failOther',
};
const fmtDuration = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/**
 * The web phone: sign-in, footer pages (History, Dialpad, Contacts, Settings, Agent, custom),
 * and the call screens over the SDK's Phone. State lives here; the DOM is rebuilt from it on
 * each change (small enough that this costs nothing), except live text (timer, quality).
 */
export class WebphoneApp {
  private t: Translate;
  private lang: Language;
  private api: ApiClient;
  private cfg: WebphoneConfig | undefined;
  private phone: Phone | undefined;
  private page: Page = 'dialpad';
  private number = '';
  private menuOpen = false;
  private keypadOpen = false;
  private transferOpen = false;
  private addingCall = false;
  private message = '';
  private updateReady: (() => void) | undefined;
  private contactsQuery = '';
  private contacts: { phonebook: Contact[]; colleagues: Array<{ ext: string; name?: string }> } = {
    phonebook: [],
    colleagues: [],
  };
  private history: HistoryEntry[] = [];
  private readonly stats = new Map<string, CallStats>();
  private tick: ReturnType<typeof setInterval> | undefined;
  private audioUnlocked = false;
  private ringtoneTest: HTMLAudioElement | undefined;
  private agentState: AgentState = 'available';
  private agentToday: AgentSummary['today'] | undefined;
  private signInMode: SignInMode = 'email';
  private signInOptions: SignInOptions = { sipLogin: false, register: false };

  constructor(private readonly d: WebphoneAppDeps) {
    this.lang = pickLanguage(d.storage.getItem(STORE.lang), navigator.languages ?? []);
    this.t = translator(this.lang);
    this.api = new ApiClient(d.apiBase, d.storage.getItem(STORE.token) ?? undefined);
    this.applyTheme();
    // Browsers play audio only after a user gesture: the first tap unlocks it, so the first call rings.
    d.root.ownerDocument.addEventListener('pointerdown', () => this.unlockAudio(), { once: true });
  }

  /** Signs in again with a stored session, or shows the sign-in form. */
  async start(): Promise<void> {
    if (this.api.sessionToken) {
      try {
        await this.loadConfig();
        return;
      } catch {
        this.d.storage.removeItem(STORE.token);
        this.api = new ApiClient(this.d.apiBase, undefined);
      }
    }
    this.signInOptions = await this.api.signInOptions(linkDomain());
    this.renderSignIn();
  }

  /** A new service worker waits: show the update prompt; `apply` activates it. */
  offerUpdate(apply: () => void): void {
    this.updateReady = apply;
    this.render();
  }

  /** What the e2e test reads (window.__handsetWebphone): call states and getStats, nothing that acts. */
  testHook(): {
    calls: () => Array<{ id: string; state: string; direction: string; remote: string }>;
    stats: () => Promise<CallStats | undefined>;
    registered: () => boolean;
  } {
    return {
      calls: () =>
        (this.phone?.calls ?? []).map((c) => ({
          id: c.id,
          state: c.state,
          direction: c.direction,
          remote: userPart(c.remoteUri),
        })),
      stats: async () => {
        const c = this.currentCall();
        return c && c.state === CallState.Active ? c.getStats() : undefined;
      },
      registered: () => this.phone?.registrationState === RegistrationState.Registered,
    };
  }

  // ---- sign-in and configuration ----

  private renderSignIn(error = ''): void {
    const { form, focus } = signInView({
      t: this.t,
      title: document.title || 'Handset',
      options: this.signInOptions,
      mode: this.signInMode,
      error,
      languagePicker: this.languagePicker(),
      onMode: (m) => ((this.signInMode = m), this.renderSignIn()),
      onSubmit: (mode, fields) =>
        this.signIn(mode, fields).catch((err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          this.renderSignIn(this.t(mode === 'signup' ? 'signUpFailed' : 'signInFailed', { reason }));
        }),
    });
    this.d.root.replaceChildren(form);
    focus.focus();
  }

  private async signIn(mode: SignInMode, f: SignInFields): Promise<void> {
    // bench/webphone measures sign-in to registered from this mark.
    performance.mark('handset:sign-in');
    const domain = linkDomain();
    const token =
      mode === 'sip'
        ? await this.api.sipLogin(f.account.includes('@') || !domain ? f.account : `${f.account}@${domain}`, f.password)
        : mode === 'signup'
          ? await this.api.signUp(domain, f.name, f.email, f.password)
          : await this.api.login(f.email, f.password);
    this.d.storage.setItem(STORE.token, token);
    await this.loadConfig();
  }

  private async loadConfig(): Promise<void> {
    const cfg = await this.api.config();
    performance.mark('handset:config');
    this.cfg = cfg;
    this.agentState = cfg.agentState;
    document.title = this.title();
    let style = document.getElementById('custom-css');
    if (!style) {
      style = h('style', { id: 'custom-css' });
      document.head.append(style);
    }
    // textContent, never innerHTML: the CSS cannot add markup (the server refuses </style> too).
    style.textContent = cfg.config.customCss;
    this.history = this.localHistory();
    this.page =
      this.nav()[0]?.page === 'dialpad' || this.nav().some((n) => n.page === 'dialpad')
        ? 'dialpad'
        : (this.nav()[0]?.page ?? 'dialpad');
    this.render();
    await this.startPhone();
    void this.refreshHistory();
    void this.requestNotifications();
  }

  private title(): string {
    const c = this.cfg;
    if (!c) return 'Handset';
    return c.config.flags.usernameAsTitle ? (this.overrides().displayName ?? c.sip.displayName) : c.config.brandName;
  }

  private overrides(): { displayName?: string; wsUrl?: string } {
    if (!this.cfg?.config.flags.editSettings) return {};
    try {
      return JSON.parse(this.d.storage.getItem(STORE.overrides) ?? '{}') as { displayName?: string; wsUrl?: string };
    } catch {
      return {};
    }
  }

  private async startPhone(): Promise<void> {
    const cfg = this.cfg;
    if (!cfg) return;
    this.phone?.close();
    const o = this.overrides();
    const loopback = this.d.storage.getItem(STORE.loopback) === '1';
    const phone = new Phone({
      server: o.wsUrl || cfg.wsUrl,
      uri: cfg.sip.uri,
      password: cfg.sip.password,
      displayName: o.displayName || cfg.sip.displayName,
      iceServers: cfg.iceServers,
      ringtone: this.d.ringtoneUrl,
      sipTrace: this.d.storage.getItem(STORE.trace) === '1',
      sdpTransform: (sdp) => {
        const out = applyCodecPolicy(sdp, cfg.config.codecs);
        return loopback
          ? out
              .split('\r\n')
              .filter((l) => !l.startsWith('a=candidate:') || /^(127\.0\.0\.1|::1)$/.test(l.split(' ')[4] ?? ''))
              .join('\r\n')
          : out;
      },
    });
    this.phone = phone;
    phone.on('registrationStateChanged', (s) => {
      // bench/webphone reads the first registration of this page load.
      if (s === RegistrationState.Registered && performance.getEntriesByName('handset:registered').length === 0)
        performance.mark('handset:registered');
      this.render();
    });
    // Do not disturb declines direct calls here (486); ring groups skip the agent on the server.
    phone.on('incoming', (c) => {
      if (this.agentState === 'dnd') c.reject(486);
    });
    phone.on('connectionStateChanged', () => this.render());
    phone.on('callAdded', (c) => this.watchCall(c));
    phone.on('incoming', (c) => this.onIncoming(c));
    phone.on('callEnded', (_c, rec) => this.onCallEnded(rec));
    phone.on('error', (e) => this.toast(e.message));
    try {
      await phone.register();
    } catch (err) {
      this.toast(err instanceof Error ? err.message : String(err));
    }
    this.render();
  }

  // ---- calls ----

  private watchCall(c: Call): void {
    c.on('stateChanged', (s) => {
      // Answered here, declined, or cancelled by the caller: the "incoming call" notification is stale.
      if (s !== CallState.Ringing) void this.closeNotification(c);
      this.render();
    });
    c.on('hold', () => this.render());
    c.on('mute', () => this.render());
    c.on('transfer', (r) => this.toast(r.ok ? this.t('transferred') : this.t('callFailed', { reason: r.cause ?? '' })));
    c.on('remoteStream', (s) => {
      const v = document.getElementById(`remote-${c.id}`) as HTMLVideoElement | null;
      if (v) v.srcObject = s;
      this.render();
    });
    this.ensureTicker();
    this.render();
  }

  private onIncoming(c: Call): void {
    if (this.cfg?.config.flags.autoAnswer && this.liveCalls().length === 1) {
      void c.answer({ video: c.video }).catch((e: unknown) => this.toast(String(e)));
      return;
    }
    if (document.hidden) void this.notify(c);
  }

  private async notify(c: Call): Promise<void> {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const reg = await this.d.serviceWorker();
    await reg
      ?.showNotification(this.t(c.video ? 'incomingVideo' : 'incoming'), {
        body: c.remoteDisplayName ? `${c.remoteDisplayName} (${userPart(c.remoteUri)})` : userPart(c.remoteUri),
        tag: `call-${c.id}`,
        icon: 'icons/icon-192.png',
        requireInteraction: true,
      })
      .catch(() => undefined);
  }

  private async closeNotification(c: Call): Promise<void> {
    const reg = await this.d.serviceWorker();
    const open = (await reg?.getNotifications({ tag: `call-${c.id}` }).catch(() => [])) ?? [];
    for (const n of open) n.close();
  }

  private async requestNotifications(): Promise<void> {
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
      document.addEventListener('pointerdown', () => void Notification.requestPermission().catch(() => undefined), {
        once: true,
      });
    }
    return Promise.resolve();
  }

  private onCallEnded(rec: CallRecord): void {
    // An outgoing call the far side or the server refused: say why, in words (not a SIP code).
    const failure = rec.end.failure;
    if (rec.direction === 'outgoing' && failure !== undefined && failure !== 'cancelled' && rec.end.by !== 'local') {
      this.toast(this.t('callFailed', { reason: this.t(FAILURE_TEXT[failure]) }));
    }
    const entry: HistoryEntry = {
      callId: rec.callId,
      direction: rec.direction,
      number: userPart(rec.remoteUri),
      name: rec.remoteDisplayName,
      startedAt: rec.startedAt,
      durationS: rec.durationS,
      missed: rec.direction === 'incoming' && rec.answeredAt === undefined,
      video: rec.video,
    };
    const local = [entry, ...this.localHistory().filter((e) => e.callId !== entry.callId)].slice(0, 200);
    if (this.cfg) this.d.storage.setItem(STORE.history(this.cfg.sip.username), JSON.stringify(local));
    this.history = mergeHistory(local, [], this.cfg?.sip.username ?? '');
    this.stats.delete(rec.id);
    if (this.liveCalls().length === 0) {
      this.keypadOpen = this.transferOpen = this.addingCall = false;
    }
    this.render();
    // The CDR is written within a moment; refresh then so server and local merge.
    setTimeout(() => void this.refreshHistory(), 1500);
  }

  private liveCalls(): Call[] {
    return (this.phone?.calls ?? []).filter((c) => c.state !== CallState.Ended);
  }

  /** The call the screen is about: one ringing in first, else the newest live one not on local hold. */
  private currentCall(): Call | undefined {
    const live = this.liveCalls();
    return (
      live.find((c) => c.state === CallState.Ringing) ??
      [...live].reverse().find((c) => !c.holdState.local) ??
      live[live.length - 1]
    );
  }

  private async dial(target: string, video = false): Promise<void> {
    const to = target.trim();
    if (!to || !this.phone) return;
    this.unlockAudio();
    this.holdOthers(undefined);
    this.addingCall = false;
    try {
      await this.phone.call(to, { video });
      this.number = '';
    } catch (err) {
      this.toast(this.t('callFailed', { reason: err instanceof Error ? err.message : String(err) }));
    }
    this.render();
  }

  /** Puts every call in conversation except `keep` on hold (a new, answered or swapped-to call). */
  private holdOthers(keep: Call | undefined): void {
    for (const o of this.liveCalls())
      if (o !== keep && o.state === CallState.Active && !o.holdState.local) this.safely(() => o.hold());
  }

  /** Answers `c`; the call in conversation goes on hold first (call waiting). */
  private async answerCall(c: Call): Promise<void> {
    this.unlockAudio();
    this.holdOthers(c);
    await c.answer({ video: c.video });
  }

  /** Runs a control's action; a refusal (say, hold while a re-INVITE is pending) becomes a toast. */
  private safely(action: () => unknown): void {
    try {
      const r = action();
      if (r instanceof Promise) r.catch((e: unknown) => this.toast(e instanceof Error ? e.message : String(e)));
    } catch (e) {
      this.toast(e instanceof Error ? e.message : String(e));
    }
  }

  private ensureTicker(): void {
    if (this.tick) return;
    this.tick = setInterval(() => {
      const live = this.liveCalls();
      if (live.length === 0) {
        clearInterval(this.tick);
        this.tick = undefined;
        return;
      }
      for (const c of live) {
        if (c.state !== CallState.Active) continue;
        void c
          .getStats()
          .then((s) => {
            this.stats.set(c.id, s);
            this.updateLive(c);
          })
          .catch(() => undefined);
      }
      const c = this.currentCall();
      if (c) this.updateLive(c);
    }, 1000);
  }

  /** Rewrites the timer and quality text in place, so typing and focus are not disturbed. */
  private updateLive(c: Call): void {
    const timer = document.getElementById(`timer-${c.id}`);
    const started = this.answeredAt.get(c.id);
    if (timer && started) timer.textContent = fmtDuration((Date.now() - started) / 1000);
    const q = document.getElementById(`quality-${c.id}`);
    const s = this.stats.get(c.id)?.quality;
    if (q && s) {
      q.textContent = this.t('quality', {
        grade: this.t(s.grade),
        loss: (s.packetLoss * 100).toFixed(1),
        jitter: Math.round(s.jitterMs),
        rtt: s.rttMs === null ? '–' : Math.round(s.rttMs),
      });
      q.dataset.grade = s.grade;
    }
  }

  private readonly answeredAt = new Map<string, number>();

  private unlockAudio(): void {
    if (this.audioUnlocked) return;
    this.audioUnlocked = true;
    const a = new Audio(this.d.ringtoneUrl);
    a.muted = true;
    void a
      .play()
      .then(() => a.pause())
      .catch(() => undefined);
  }

  // ---- rendering ----

  private nav(): NavEntry[] {
    const cfg = this.cfg;
    const defaults: Page[] = ['history', 'dialpad', 'contacts', 'settings'];
    const items: MenuItem[] = cfg?.config.menuItems.length ? cfg.config.menuItems : defaults.map((page) => ({ page }));
    const entries = items
      .filter((i) => !i.disabled)
      .map((i, idx) => ({ i, idx }))
      .sort((a, b) => (a.i.position ?? a.idx) - (b.i.position ?? b.idx))
      .map(({ i }) => ({
        page: i.page,
        title: i.title ?? this.t(i.page === 'custom' || i.page === 'iframe' ? 'menu' : i.page),
        icon: ICONS[i.page],
        glyph: i.icon,
        item: i,
      }));
    const withAgent =
      cfg?.config.flags.agent && !entries.some((e) => e.page === 'agent')
        ? [{ page: 'agent' as const, title: this.t('agent'), icon: ICONS.agent }, ...entries]
        : entries;
    return cfg?.config.flags.agent ? withAgent : withAgent.filter((e) => e.page !== 'agent');
  }

  private render(): void {
    const cfg = this.cfg;
    if (!cfg) return;
    const active = document.activeElement?.id;
    const call = this.currentCall();
    const showCall = call !== undefined && !this.addingCall;
    const nav = this.nav();
    const entry =
      nav.find((n) => n.page === this.page && (n.item === undefined || this.pageItem === n.item)) ??
      nav.find((n) => n.page === this.page);
    const reg = this.phone?.registrationState ?? RegistrationState.Unregistered;
    const app = h(
      'div',
      { class: `app${cfg.config.flags.menuRight ? ' menu-right' : ''}` },
      h(
        'header',
        {},
        h(
          'button',
          {
            class: 'icon',
            'aria-label': this.t('menu'),
            'aria-expanded': String(this.menuOpen),
            onclick: () => ((this.menuOpen = !this.menuOpen), this.render()),
          },
          '☰',
        ),
        h('h1', {}, this.title()),
        h('span', { class: `reg reg-${reg}`, role: 'status', title: this.regText(reg) }, this.regText(reg)),
      ),
      this.menuOpen ? this.sideMenu() : null,
      // Not during a call: reloading would drop it. A region, not an alert: the DOM is rebuilt on
      // every change, and an alert would be announced again each time.
      this.updateReady && !call
        ? h(
            'section',
            { class: 'banner', 'aria-label': this.t('updateReady') },
            this.t('updateReady'),
            ' ',
            h('button', { onclick: () => this.updateReady?.() }, this.t('reload')),
          )
        : null,
      !navigator.onLine ? h('div', { class: 'banner' }, this.t('offline')) : null,
      this.addingCall && call
        ? h(
            'div',
            { class: 'banner' },
            h('button', { onclick: () => ((this.addingCall = false), this.render()) }, `← ${this.callLabel(call)}`),
          )
        : null,
      h('main', { id: 'main' }, showCall ? this.callScreen(call) : this.pageView(entry)),
      showCall
        ? null
        : h('nav', { class: 'footer', 'aria-label': this.t('menu') }, ...nav.map((n) => this.navButton(n))),
      this.message ? h('div', { class: 'toast', role: 'status' }, this.message) : null,
    );
    this.d.root.replaceChildren(app);
    if (active) document.getElementById(active)?.focus();
    if (call) this.updateLive(call);
  }

  private pageItem: MenuItem | undefined;

  private navButton(n: NavEntry): HTMLElement {
    const current =
      n.page === this.page && (n.item === undefined || n.item === this.pageItem || this.pageItem === undefined);
    return h(
      'button',
      {
        class: current ? 'current' : undefined,
        'aria-current': current ? 'page' : undefined,
        onclick: () => {
          this.page = n.page;
          this.pageItem = n.item;
          if (n.page === 'history') void this.refreshHistory();
          if (n.page === 'contacts') void this.refreshContacts();
          this.render();
        },
      },
      n.glyph ? h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, n.glyph) : icon(n.icon),
      h('span', {}, n.title),
    );
  }

  private regText(s: RegistrationState): string {
    return s === RegistrationState.Registered
      ? this.t('registered')
      : s === RegistrationState.Registering
        ? this.t('connecting')
        : this.t('unregistered');
  }

  private sideMenu(): HTMLElement {
    const cfg = this.cfg!;
    return h(
      'aside',
      { class: 'side-menu', 'aria-label': this.t('menu') },
      h(
        'button',
        {
          class: 'icon close',
          'aria-label': this.t('closeMenu'),
          onclick: () => ((this.menuOpen = false), this.render()),
        },
        '✕',
      ),
      h(
        'p',
        { class: 'who' },
        h('strong', {}, this.overrides().displayName ?? cfg.sip.displayName),
        h('br'),
        `${cfg.sip.username}@${cfg.sip.domain}`,
      ),
      cfg.config.flags.displayBalance && cfg.balance !== null
        ? h(
            'p',
            { class: 'balance' },
            this.t('balance', {
              balance: cfg.currency
                ? cfg.balance.toLocaleString(this.lang, { style: 'currency', currency: cfg.currency })
                : cfg.balance.toFixed(2),
            }),
          )
        : null,
      this.languagePicker(),
      h('button', { onclick: () => void this.signOut() }, this.t('signOut')),
      cfg.config.flags.hideUuid ? null : h('p', { class: 'build' }, this.t('build', { uuid: this.d.buildUuid })),
    );
  }

  private languagePicker(): HTMLElement {
    return h(
      'label',
      { class: 'inline' },
      this.t('language'),
      ' ',
      h(
        'select',
        {
          'aria-label': this.t('language'),
          onchange: (e) => {
            this.lang = (e.target as HTMLSelectElement).value as Language;
            this.d.storage.setItem(STORE.lang, this.lang);
            this.t = translator(this.lang);
            document.documentElement.lang = this.lang;
            if (this.cfg) this.render();
            else this.renderSignIn();
          },
        },
        ...Object.entries(LANGUAGES).map(([code, l]) =>
          h('option', { value: code, selected: code === this.lang }, l.name),
        ),
      ),
    );
  }

  private async signOut(): Promise<void> {
    try {
      await this.phone?.unregister();
    } catch {
      /* leaving anyway */
    }
    this.phone?.close();
    this.phone = undefined;
    await this.api.logout();
    this.d.storage.removeItem(STORE.token);
    this.cfg = undefined;
    this.menuOpen = false;
    this.signInMode = 'email';
    this.agentToday = undefined;
    document.title = 'Handset';
    this.renderSignIn();
  }

  private toast(text: string): void {
    this.message = text;
    this.render();
    setTimeout(() => {
      if (this.message === text) {
        this.message = '';
        this.render();
      }
    }, 4000);
  }

  private pageView(entry: NavEntry | undefined): HTMLElement {
    switch (entry?.page ?? this.page) {
      case 'history':
        return this.historyPage();
      case 'contacts':
        return this.contactsPage();
      case 'settings':
        return this.settingsPage();
      case 'agent':
        return this.agentPage();
      case 'iframe':
        return h('iframe', {
          class: 'fill',
          src: entry?.item?.url ?? 'about:blank',
          title: entry?.title ?? '',
          sandbox: 'allow-scripts allow-forms allow-same-origin allow-popups',
        });
      case 'custom':
        return h('section', { class: 'page custom' }, this.template(entry?.item?.template ?? ''));
      default:
        return this.dialpadPage();
    }
  }

  private template(tpl: string): string {
    const c = this.cfg!;
    return tpl.replace(/\{\{(name|ext|domain)\}\}/g, (_m, k: string) =>
      k === 'name' ? c.sip.displayName : k === 'ext' ? c.sip.username : c.sip.domain,
    );
  }

  // ---- pages ----

  private dialpadPage(): HTMLElement {
    const input = h('input', {
      id: 'number',
      type: 'tel',
      inputmode: 'tel',
      autocomplete: 'off',
      'aria-label': this.t('number'),
      placeholder: this.t('number'),
      value: this.number,
      oninput: (e) => this.setNumber((e.target as HTMLInputElement).value),
      onkeydown: (e) => {
        if ((e as KeyboardEvent).key === 'Enter') void this.dial(this.number);
      },
    });
    const press = (k: string) => {
      this.setNumber(this.number + k);
      input.value = this.number;
    };
    return h(
      'section',
      { class: 'page dialpad' },
      h(
        'div',
        { class: 'number-row' },
        input,
        h(
          'button',
          {
            class: 'icon',
            'aria-label': this.t('delete'),
            onclick: () => (this.setNumber(this.number.slice(0, -1)), (input.value = this.number)),
          },
          '⌫',
        ),
      ),
      this.keypad(press),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'primary call', onclick: () => void this.dial(this.number) }, this.t('call')),
        h('button', { class: 'secondary', onclick: () => void this.dial(this.number, true) }, this.t('videoCall')),
      ),
    );
  }

  /** Keeps only dialable characters (paste of "+1 (555) 010-0199" becomes "+15550100199"), and watches for the debug code. */
  private setNumber(v: string): void {
    const clean = v.replace(/[^0-9*#+a-zA-Z@._-]/g, '').slice(0, 128);
    this.number = clean;
    if (clean.endsWith(DEBUG_CODE)) {
      this.number = '';
      const on = this.d.storage.getItem(STORE.trace) !== '1';
      this.d.storage.setItem(STORE.trace, on ? '1' : '0');
      this.d.log(on ? '[handset] SIP logging on' : '[handset] SIP logging off');
      // On at once, without re-registering: during a call too (typed on the dialpad of "Add call").
      setSipTrace(on, this.d.storage);
      const calls = this.liveCalls().length;
      this.toast(this.t(on ? 'sipLogOn' : calls ? 'sipLogOffLater' : 'sipLogOff'));
      // Off needs a fresh page (see sip-trace.ts); the stored session signs straight back in.
      if (!on && calls === 0) setTimeout(() => location.reload(), 300);
    }
  }

  private keypad(press: (k: string) => void): HTMLElement {
    return h(
      'div',
      { class: 'keypad', role: 'group', 'aria-label': this.t('keypad') },
      ...KEYS.map((k) => h('button', { class: 'key', 'aria-label': k, onclick: () => press(k) }, k)),
    );
  }

  private historyPage(): HTMLElement {
    if (this.history.length === 0)
      return h('section', { class: 'page' }, h('p', { class: 'empty' }, this.t('noHistory')));
    return h(
      'section',
      { class: 'page' },
      h(
        'ul',
        { class: 'list history', 'aria-label': this.t('history') },
        ...this.history.map((e) =>
          h(
            'li',
            { class: e.missed ? 'missed' : undefined },
            h(
              'div',
              { class: 'grow' },
              h('strong', {}, e.name ? `${e.name} (${e.number})` : e.number),
              h('br'),
              h(
                'small',
                {},
                `${e.missed ? this.t('missed') : this.t(e.direction === 'outgoing' ? 'outgoing' : 'incomingShort')} · ${new Date(e.startedAt).toLocaleString(this.lang)} · ${fmtDuration(e.durationS)}`,
              ),
            ),
            h(
              'button',
              {
                class: 'icon call',
                'aria-label': this.t('callBack', { number: e.number }),
                onclick: () => void this.dial(e.number),
              },
              icon(PHONE_ICON),
            ),
          ),
        ),
      ),
    );
  }

  private localHistory(): HistoryEntry[] {
    if (!this.cfg) return [];
    try {
      const v = JSON.parse(this.d.storage.getItem(STORE.history(this.cfg.sip.username)) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as HistoryEntry[]) : [];
    } catch {
      return [];
    }
  }

  private async refreshHistory(): Promise<void> {
    const cdrs = await this.api.cdrs().catch(() => []);
    this.history = mergeHistory(this.localHistory(), cdrs, this.cfg?.sip.username ?? '');
    if (this.page === 'history') this.render();
  }

  private async refreshContacts(): Promise<void> {
    const q = this.contactsQuery;
    const [phonebook, colleagues] = await Promise.all([
      this.api.contacts(q).catch(() => []),
      this.api.colleagues(q).catch(() => []),
    ]);
    if (q !== this.contactsQuery) return;
    this.contacts = { phonebook, colleagues };
    if (this.page === 'contacts') this.render();
  }

  private contactsPage(): HTMLElement {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const search = h('input', {
      id: 'contact-search',
      type: 'search',
      'aria-label': this.t('searchContacts'),
      placeholder: this.t('searchContacts'),
      value: this.contactsQuery,
      oninput: (e) => {
        this.contactsQuery = (e.target as HTMLInputElement).value.slice(0, 100);
        clearTimeout(timer);
        timer = setTimeout(() => void this.refreshContacts(), 200);
      },
    });
    const row = (name: string, number: string, sub?: string) =>
      h(
        'li',
        {},
        h(
          'div',
          { class: 'grow' },
          h('strong', {}, name),
          h('br'),
          h('small', {}, sub ? `${number} · ${sub}` : number),
        ),
        h(
          'button',
          { class: 'icon call', 'aria-label': this.t('callContact', { name }), onclick: () => void this.dial(number) },
          icon(PHONE_ICON),
        ),
      );
    const { phonebook, colleagues } = this.contacts;
    const book: Child[] = phonebook.flatMap((c) => {
      const nums = c.numbers.length
        ? c.numbers.map((n) => [n.number, n.label] as const)
        : c.ext
          ? [[c.ext, undefined] as const]
          : [];
      return nums.map(([n, label]) => row(c.name, n, label ?? c.company));
    });
    return h(
      'section',
      { class: 'page contacts' },
      search,
      colleagues.length ? h('h2', {}, this.t('colleagues')) : null,
      colleagues.length
        ? h(
            'ul',
            { class: 'list', 'aria-label': this.t('colleagues') },
            ...colleagues.map((u) => row(u.name ?? u.ext, u.ext)),
          )
        : null,
      book.length ? h('h2', {}, this.t('phonebook')) : null,
      book.length ? h('ul', { class: 'list', 'aria-label': this.t('phonebook') }, ...book) : null,
      !colleagues.length && !book.length ? h('p', { class: 'empty' }, this.t('noContacts')) : null,
    );
  }

  private settingsPage(): HTMLElement {
    const cfg = this.cfg!;
    const editable = cfg.config.flags.editSettings;
    const o = this.overrides();
    const name = h('input', {
      id: 'display-name',
      value: o.displayName ?? cfg.sip.displayName,
      readonly: !editable,
      maxlength: 100,
    });
    const ws = h('input', {
      id: 'ws-url',
      type: 'url',
      value: o.wsUrl ?? cfg.wsUrl,
      readonly: !editable,
      maxlength: 500,
    });
    const field = (id: string, key: MessageKey, el: HTMLElement) =>
      h('div', { class: 'field' }, h('label', { for: id }, this.t(key)), el);
    const devices = this.deviceFields();
    void this.refreshDevices();
    const themeSel = h(
      'select',
      {
        id: 'theme',
        onchange: (e) => {
          this.d.storage.setItem(STORE.theme, (e.target as HTMLSelectElement).value);
          this.applyTheme();
        },
      },
      ...(['auto', 'light', 'dark'] as const).map((v) =>
        h(
          'option',
          { value: v, selected: (this.d.storage.getItem(STORE.theme) ?? 'auto') === v },
          this.t(v === 'auto' ? 'themeAuto' : v === 'light' ? 'themeLight' : 'themeDark'),
        ),
      ),
    );
    return h(
      'section',
      { class: 'page settings' },
      field('display-name', 'displayName', name),
      h('h2', {}, this.t('sipInfo')),
      h(
        'dl',
        {},
        h('dt', {}, 'URI'),
        h('dd', {}, cfg.sip.uri),
        h('dt', {}, 'Username'),
        h('dd', {}, cfg.sip.username),
        h('dt', {}, 'Domain'),
        h('dd', {}, cfg.sip.domain),
      ),
      field('ws-url', 'wsUrl', ws),
      editable
        ? h(
            'button',
            {
              class: 'primary',
              onclick: () => {
                const wsUrl = ws.value.trim();
                if (wsUrl && !/^wss?:\/\//i.test(wsUrl)) return this.toast(`${this.t('wsUrl')}: ws:// or wss://`);
                this.d.storage.setItem(
                  STORE.overrides,
                  JSON.stringify({ displayName: name.value.trim() || undefined, wsUrl: wsUrl || undefined }),
                );
                this.toast(this.t('saved'));
                if (this.liveCalls().length === 0) void this.startPhone();
              },
            },
            this.t('save'),
          )
        : h('p', { class: 'hint' }, this.t('readOnly')),
      h('h2', {}, this.t('devices')),
      devices,
      h(
        'button',
        {
          onclick: (e) => {
            const btn = e.currentTarget as HTMLButtonElement;
            if (this.ringtoneTest) {
              this.ringtoneTest.pause();
              this.ringtoneTest = undefined;
              btn.textContent = this.t('testRingtone');
              return;
            }
            const a = new Audio(this.d.ringtoneUrl);
            a.loop = true;
            void this.phone?.devices.attach(a, 'ringer');
            void a.play().catch(() => undefined);
            this.ringtoneTest = a;
            btn.textContent = this.t('stopRingtone');
          },
        },
        this.t('testRingtone'),
      ),
      field('theme', 'theme', themeSel),
    );
  }

  private deviceList: Array<{ id: string; label: string; kind: string }> = [];

  /** Re-reads the devices (labels appear once a permission is granted) and redraws when they changed. */
  private async refreshDevices(): Promise<void> {
    const list = (await this.phone?.devices.list().catch(() => [])) ?? [];
    if (JSON.stringify(list) === JSON.stringify(this.deviceList)) return;
    this.deviceList = list;
    if (this.page === 'settings') this.render();
  }

  private deviceFields(): HTMLElement {
    const phone = this.phone;
    const sel = phone?.devices.selected;
    const roles = [
      ['microphone', 'microphone', 'microphone'],
      ['camera', 'camera', 'camera'],
      ['speaker', 'speaker', 'speaker'],
      ['ringer', 'speaker', 'ringer'],
    ] as const;
    return h(
      'div',
      { class: 'devices' },
      ...roles.map(([role, kind, key]) =>
        h(
          'div',
          { class: 'field' },
          h('label', { for: `dev-${role}` }, this.t(key)),
          h(
            'select',
            {
              id: `dev-${role}`,
              onchange: (e) =>
                void phone?.devices
                  .select(role, (e.target as HTMLSelectElement).value || undefined)
                  .catch((err: unknown) => this.toast(String(err))),
            },
            h('option', { value: '' }, this.t('systemDefault')),
            ...this.deviceList
              .filter((d) => d.kind === kind)
              .map((d) => h('option', { value: d.id, selected: sel?.[role] === d.id }, d.label || d.id.slice(0, 8))),
          ),
        ),
      ),
    );
  }

  private agentPage(): HTMLElement {
    void this.refreshAgent();
    return agentView({
      t: this.t,
      state: this.agentState,
      today: this.agentToday,
      onState: (next) => {
        const before = this.agentState;
        this.agentState = next;
        this.render();
        void this.api.setAgentState(next).catch((e: unknown) => {
          this.agentState = before;
          this.toast(e instanceof Error ? e.message : String(e));
        });
      },
    });
  }

  /** Re-reads the status and today's counters (since local midnight); redraws when they changed. */
  private async refreshAgent(): Promise<void> {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const a = await this.api.agent(midnight).catch(() => undefined);
    if (!a || (a.state === this.agentState && JSON.stringify(a.today) === JSON.stringify(this.agentToday))) return;
    this.agentState = a.state;
    this.agentToday = a.today;
    if (this.page === 'agent') this.render();
  }

  private applyTheme(): void {
    const v = this.d.storage.getItem(STORE.theme) ?? 'auto';
    document.documentElement.dataset.theme = v;
  }

  // ---- call screen ----

  private callLabel(c: Call): string {
    const n = userPart(c.remoteUri);
    return c.remoteDisplayName && c.remoteDisplayName !== n ? `${c.remoteDisplayName} (${n})` : n;
  }

  private callScreen(c: Call): HTMLElement {
    const others = this.liveCalls().filter((o) => o !== c);
    if (c.state === CallState.Active && !this.answeredAt.has(c.id)) this.answeredAt.set(c.id, Date.now());
    const status =
      c.state === CallState.Ringing
        ? this.t(c.video ? 'incomingVideo' : 'incoming')
        : c.state === CallState.Calling
          ? this.t('calling')
          : c.state === CallState.Early
            ? this.t('ringing')
            : c.holdState.local || c.holdState.remote
              ? this.t('onHold')
              : this.t('connected');
    const btn = (label: string, on: () => unknown, cls = '', pressed?: boolean, name?: string) =>
      h(
        'button',
        {
          class: cls,
          onclick: () => this.safely(on),
          'aria-pressed': pressed === undefined ? undefined : String(pressed),
          'aria-label': name,
        },
        label,
      );
    let controls: HTMLElement;
    if (c.state === CallState.Ringing) {
      controls = h(
        'div',
        { class: 'actions' },
        btn(this.t('answer'), () => this.answerCall(c), 'primary answer'),
        btn(this.t('decline'), () => c.reject(), 'danger'),
      );
    } else if (c.state === CallState.Active) {
      controls = h(
        'div',
        { class: 'in-call' },
        h(
          'div',
          { class: 'grid' },
          btn(this.t('mute'), () => (c.muteState.audio ? c.unmute() : c.mute()), '', c.muteState.audio),
          btn(this.t('hold'), () => (c.holdState.local ? c.unhold() : c.hold()), '', c.holdState.local),
          btn(this.t('keypad'), () => ((this.keypadOpen = !this.keypadOpen), this.render()), '', this.keypadOpen),
          btn(
            this.t('transfer'),
            () => ((this.transferOpen = !this.transferOpen), this.render()),
            '',
            this.transferOpen,
          ),
          btn(this.t('addCall'), () => ((this.addingCall = true), (this.page = 'dialpad'), this.render())),
          others.length ? btn(this.t('swap'), () => this.swapTo(others[0]!)) : null,
        ),
        this.keypadOpen ? this.keypad((k) => this.safely(() => c.sendDTMF(k))) : null,
        this.transferOpen ? this.transferPanel(c, others) : null,
        h(
          'div',
          { class: 'actions' },
          btn(this.t('hangUp'), () => c.hangup(), 'danger'),
        ),
      );
    } else {
      controls = h(
        'div',
        { class: 'actions' },
        btn(this.t('hangUp'), () => c.hangup(), 'danger'),
      );
    }
    const media = c.video
      ? h(
          'div',
          { class: 'videos' },
          h('video', {
            id: `remote-${c.id}`,
            class: 'remote',
            autoplay: true,
            playsinline: true,
            muted: true,
            'aria-label': this.callLabel(c),
          }),
          h('video', {
            id: `local-${c.id}`,
            class: 'local',
            autoplay: true,
            playsinline: true,
            muted: true,
            'aria-label': this.t('you'),
          }),
        )
      : h(
          'div',
          { class: 'avatar', 'aria-hidden': 'true' },
          (c.remoteDisplayName ?? userPart(c.remoteUri)).slice(0, 1).toUpperCase(),
        );
    const screen = h(
      'section',
      { class: `page call-screen state-${c.state}`, 'aria-label': status },
      media,
      h('h2', { class: 'peer' }, this.callLabel(c)),
      h(
        'p',
        { class: 'status', role: 'status' },
        status,
        c.state === CallState.Active ? h('span', { id: `timer-${c.id}`, class: 'timer' }, '0:00') : null,
      ),
      c.state === CallState.Active ? h('p', { id: `quality-${c.id}`, class: 'quality' }) : null,
      others.length
        ? h(
            'ul',
            { class: 'list others' },
            ...others.map((o) =>
              h(
                'li',
                {},
                h(
                  'span',
                  { class: 'grow' },
                  `${this.callLabel(o)} · ${o.holdState.local ? this.t('onHold') : o.state}`,
                ),
                btn(this.t('swap'), () => this.swapTo(o), '', undefined, this.t('swapTo', { name: this.callLabel(o) })),
              ),
            ),
          )
        : null,
      controls,
    );
    if (c.video) queueMicrotask(() => this.attachVideo(c));
    return screen;
  }

  private attachVideo(c: Call): void {
    const pc = c.peerConnection;
    if (!pc) return;
    const remote = document.getElementById(`remote-${c.id}`) as HTMLVideoElement | null;
    const local = document.getElementById(`local-${c.id}`) as HTMLVideoElement | null;
    const rTracks = pc
      .getReceivers()
      .map((r) => r.track)
      .filter((t) => t.kind === 'video');
    const lTracks = pc
      .getSenders()
      .map((s) => s.track)
      .filter((t): t is MediaStreamTrack => t?.kind === 'video');
    if (remote && rTracks.length && !remote.srcObject) remote.srcObject = new MediaStream(rTracks);
    if (local && lTracks.length && !local.srcObject) local.srcObject = new MediaStream(lTracks);
  }

  private swapTo(o: Call): void {
    this.holdOthers(o);
    if (o.holdState.local) o.unhold();
    this.render();
  }

  private transferPanel(c: Call, others: Call[]): HTMLElement {
    const to = h('input', {
      id: 'transfer-to',
      type: 'tel',
      'aria-label': this.t('transferTo'),
      placeholder: this.t('transferTo'),
    });
    const consult = others.find((o) => o.state === CallState.Active);
    return h(
      'div',
      { class: 'transfer' },
      consult
        ? h(
            'button',
            {
              class: 'primary',
              onclick: () => {
                // The held party is the transferee: it gets the REFER, with Replaces naming the
                // dialog with the consulted party (RFC 5589 §7.1), wherever the user pressed.
                const [transferee, target] = c.holdState.local ? [c, consult] : [consult, c];
                this.safely(() =>
                  transferee.attendedTransfer(target).then(() => ((this.transferOpen = false), this.render())),
                );
              },
            },
            this.t('completeTransfer'),
          )
        : null,
      to,
      h(
        'button',
        {
          onclick: () => {
            const target = to.value.trim();
            if (!target) return;
            this.safely(() => c.transfer(target).then(() => ((this.transferOpen = false), this.render())));
          },
        },
        this.t('blindTransfer'),
      ),
      h(
        'button',
        {
          onclick: () => {
            const target = to.value.trim();
            if (target) void this.dial(target);
          },
        },
        this.t('consult'),
      ),
      h('button', { onclick: () => ((this.transferOpen = false), this.render()) }, this.t('cancel')),
    );
  }
}

/** The domain a link names (`?domain=example.com`); else the server takes the page's host. */
function linkDomain(): string | undefined {
  const d = new URLSearchParams(location.search).get('domain')?.trim();
  return d && /^[A-Za-z0-9.-]{1,253}$/.test(d) ? d : undefined;
}
