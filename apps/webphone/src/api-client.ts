/** The web phone configuration, as GET /api/v1/webphone/config answers it. */
export interface WebphoneConfig {
  user: { id: string; ext: string; domain: string; name?: string; email?: string; role: string };
  sip: { uri: string; username: string; domain: string; password: string; displayName: string };
  wsUrl: string;
  iceServers: RTCIceServer[];
  config: {
    brandName: string;
    menuItems: MenuItem[];
    flags: {
      hideUuid: boolean;
      menuRight: boolean;
      displayBalance: boolean;
      editSettings: boolean;
      register: boolean;
      usernameAsTitle: boolean;
      autoAnswer: boolean;
      agent: boolean;
    };
    customCss: string;
    codecs: { delete: string[]; priority: string[] };
  };
  balance: number | null;
  /** ISO 4217 code of the balance, when one was given. */
  currency: string | null;
  agentState: AgentState;
  build: { version: string; uuid: string };
}

/** Agent statuses: only `available` agents ring for group calls. */
export const AGENT_STATES = ['available', 'away', 'wrap_up', 'dnd'] as const;
/** One agent status. */
export type AgentState = (typeof AGENT_STATES)[number];

/** The agent's status and its calls since a moment (today), from GET /webphone/agent. */
export interface AgentSummary {
  state: AgentState;
  today: { total: number; outgoing: number; incoming: number; answered: number; missed: number; talkS: number };
}

/** What a domain's sign-in screen offers (GET /webphone/sign-in-options). */
export interface SignInOptions {
  sipLogin: boolean;
  register: boolean;
  brandName?: string;
}

/** One entry of `webphone.menu_items`. */
export interface MenuItem {
  page: 'agent' | 'history' | 'dialpad' | 'contacts' | 'settings' | 'custom' | 'iframe';
  title?: string;
  icon?: string;
  position?: number;
  disabled?: boolean;
  url?: string;
  template?: string;
}

/** A CDR as GET /api/v1/cdrs lists it. */
export interface Cdr {
  callId: string;
  caller: string;
  callee: string;
  startedAt: string;
  answeredAt?: string;
  durationS: number;
  disposition: string;
}

/** A phonebook entry as GET /api/v1/contacts lists it. */
export interface Contact {
  id: string;
  name: string;
  company?: string;
  ext?: string;
  numbers: Array<{ number: string; label?: string }>;
}

/** An API failure with the server's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The REST calls the web phone makes, with the session token it got at sign-in. */
export class ApiClient {
  constructor(
    private readonly base: string,
    private token: string | undefined,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** The session token (kept by the app across reloads). */
  get sessionToken(): string | undefined {
    return this.token;
  }

  /** POST /auth/login; keeps the token. */
  async login(email: string, password: string): Promise<string> {
    const r = await this.request<{ token: string }>('POST', '/auth/login', { email, password });
    this.token = r.token;
    return r.token;
  }

  /** What the sign-in screen of `domain` (or of the page's host) offers; nothing when unreachable. */
  async signInOptions(domain: string | undefined): Promise<SignInOptions> {
    const q = domain ? `?domain=${encodeURIComponent(domain)}` : '';
    return this.request<SignInOptions>('GET', `/webphone/sign-in-options${q}`).catch(() => ({
      sipLogin: false,
      register: false,
    }));
  }

  /** POST /webphone/sip-login with `ext@domain` and the SIP password; keeps the token. */
  async sipLogin(account: string, password: string): Promise<string> {
    const r = await this.request<{ token: string }>('POST', '/webphone/sip-login', { account, password });
    this.token = r.token;
    return r.token;
  }

  /** POST /webphone/sign-up: a new account in `domain` (or the page host's); keeps the token. */
  async signUp(domain: string | undefined, name: string, email: string, password: string): Promise<string> {
    const r = await this.request<{ token: string }>('POST', '/webphone/sign-up', {
      ...(domain ? { domain } : {}),
      name,
      email,
      password,
    });
    this.token = r.token;
    return r.token;
  }

  /** The agent's status and calls since `since` (local midnight). */
  agent(since: Date): Promise<AgentSummary> {
    return this.request('GET', `/webphone/agent?since=${encodeURIComponent(since.toISOString())}`);
  }

  async setAgentState(state: AgentState): Promise<AgentState> {
    return (await this.request<{ state: AgentState }>('PUT', '/webphone/agent', { state })).state;
  }

  /** POST /auth/logout (errors ignored: the token is dropped either way). */
  async logout(): Promise<void> {
    await this.request('POST', '/auth/logout').catch(() => undefined);
    this.token = undefined;
  }

  config(): Promise<WebphoneConfig> {
    return this.request('GET', '/webphone/config');
  }

  async cdrs(): Promise<Cdr[]> {
    return (await this.request<{ docs: Cdr[] }>('GET', '/cdrs?pageSize=50')).docs;
  }

  async contacts(keyword: string): Promise<Contact[]> {
    const q = keyword ? `&keyword=${encodeURIComponent(keyword)}` : '';
    return (await this.request<{ docs: Contact[] }>('GET', `/contacts?pageSize=200${q}`)).docs;
  }

  async colleagues(keyword: string): Promise<Array<{ ext: string; name?: string }>> {
    const q = keyword ? `?keyword=${encodeURIComponent(keyword)}` : '';
    return (await this.request<{ docs: Array<{ ext: string; name?: string }> }>('GET', `/webphone/colleagues${q}`))
      .docs;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetchFn(`${this.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 204) return undefined as T;
    const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) throw new ApiError(res.status, data.error?.code ?? 'ERROR', data.error?.message ?? res.statusText);
    return data as T;
  }
}
