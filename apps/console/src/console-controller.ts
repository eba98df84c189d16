import { signal } from '@preact/signals';
import {
  Session,
  Toasts,
  createI18n,
  createTheme,
  type I18n,
  type Principal,
  type SignInFields,
  type SignInMode,
  type ThemeStore,
} from '@handset/ui';
import { messages, type MessageKey } from './messages.js';

/** The console's pages (the device-console issue adds more). */
export type ConsolePage = 'devices';

/** Roles that may use the console: agents have the web phone. */
const CONSOLE_ROLES: ReadonlySet<Principal['role']> = new Set(['superadmin', 'owner', 'admin']);

/** What the console needs from its page (injected by main.tsx; tests pass their own). */
export interface ConsoleDeps {
  win: Window;
  storage: Storage;
  apiBase: string;
}

/** The console's state: session and principal, language, theme, toasts, the page shown. */
export class ConsoleController {
  readonly session: Session;
  readonly i18n: I18n<MessageKey>;
  readonly theme: ThemeStore;
  readonly toasts = new Toasts();
  /** Who is signed in (undefined: the sign-in form). */
  readonly principal = signal<Principal | undefined>(undefined);
  /** False until the stored session was checked (nothing is shown before). */
  readonly ready = signal(false);
  readonly page = signal<ConsolePage>('devices');

  constructor(readonly d: ConsoleDeps) {
    this.session = new Session(d.storage, d.apiBase, 'handset.console.token');
    this.i18n = createI18n(messages, d.storage, d.win.navigator.languages ?? [], d.win.document);
    this.theme = createTheme(d.storage, d.win.document.documentElement);
  }

  /** Signs in again with a stored session (an agent's is dropped), else shows the form. */
  async start(): Promise<void> {
    if (this.session.hasStoredToken) {
      try {
        await this.admit();
      } catch {
        this.session.forget();
      }
    }
    this.ready.value = true;
  }

  /** The form's submit: e-mail and password; an agent is refused (and its session ended). */
  async signIn(mode: SignInMode, fields: SignInFields): Promise<void> {
    await this.session.signIn(mode, fields, undefined);
    await this.admit();
  }

  async signOut(): Promise<void> {
    await this.session.signOut();
    this.principal.value = undefined;
  }

  private async admit(): Promise<void> {
    const me = await this.session.api.me();
    if (!CONSOLE_ROLES.has(me.role)) {
      await this.session.signOut();
      throw new Error(this.i18n.t.value('agentsRefused'));
    }
    this.session.confirm();
    this.principal.value = me;
  }
}
