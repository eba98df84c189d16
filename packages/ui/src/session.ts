import { signal, type ReadonlySignal } from '@preact/signals';
import { ApiClient } from './api-client.js';

/** How a user signs in: e-mail and password, SIP account (agents), or a new account. */
export type SignInMode = 'email' | 'sip' | 'signup';

/** What the sign-in form hands over. */
export interface SignInFields {
  email: string;
  password: string;
  /** SIP mode: `ext@domain` (a bare extension gets the link's domain). */
  account: string;
  name: string;
}

/**
 * The signed-in session: the API client with its token, kept in `storage` across reloads.
 * `signedIn` is true between a successful sign-in (or a stored token) and {@link signOut}.
 */
export class Session {
  private client: ApiClient;
  private readonly state = signal(false);

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private readonly apiBase: string,
    /** Where the token is kept: each app its own (the web phone's is `handset.token`). */
    private readonly tokenKey = 'handset.token',
    private readonly fetchFn?: typeof fetch,
  ) {
    this.client = new ApiClient(apiBase, storage.getItem(tokenKey) ?? undefined, fetchFn);
  }

  /** The client of the current token (a new one after sign-out). */
  get api(): ApiClient {
    return this.client;
  }

  /** True once a token is held and accepted. */
  get signedIn(): ReadonlySignal<boolean> {
    return this.state;
  }

  /** A token from an earlier visit, not yet checked. */
  get hasStoredToken(): boolean {
    return this.client.sessionToken !== undefined;
  }

  /** Signs in one of the three ways; `domain` is the link's (`?domain=`), if any. */
  async signIn(mode: SignInMode, f: SignInFields, domain: string | undefined): Promise<void> {
    const token =
      mode === 'sip'
        ? await this.client.sipLogin(
            f.account.includes('@') || !domain ? f.account : `${f.account}@${domain}`,
            f.password,
          )
        : mode === 'signup'
          ? await this.client.signUp(domain, f.name, f.email, f.password)
          : await this.client.login(f.email, f.password);
    this.storage.setItem(this.tokenKey, token);
    this.state.value = true;
  }

  /** The stored token proved good (the app's first authenticated call answered). */
  confirm(): void {
    this.state.value = true;
  }

  /** Ends the session on the server (best effort) and forgets the token. */
  async signOut(): Promise<void> {
    await this.client.logout();
    this.forget();
  }

  /** Forgets the token without asking the server (it was refused). */
  forget(): void {
    this.storage.removeItem(this.tokenKey);
    this.client = new ApiClient(this.apiBase, undefined, this.fetchFn);
    this.state.value = false;
  }
}

/** The domain a link names (`?domain=example.com`); else the server takes the page's host. */
export function linkDomain(search: string): string | undefined {
  const d = new URLSearchParams(search).get('domain')?.trim();
  return d && /^[A-Za-z0-9.-]{1,253}$/.test(d) ? d : undefined;
}
