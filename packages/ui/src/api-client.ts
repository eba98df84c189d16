/** What a domain's sign-in screen offers (GET /webphone/sign-in-options). */
export interface SignInOptions {
  sipLogin: boolean;
  register: boolean;
  brandName?: string;
}

/** Who a session stands for (GET /auth/me). */
export interface Principal {
  userId?: string;
  email?: string;
  role: 'superadmin' | 'owner' | 'admin' | 'agent';
  domain?: string;
}

/** An API failure with the server's error code (`{error: {code, message}}`). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The REST client both apps use: `/api/v1` calls with the session token got at sign-in. */
export class ApiClient {
  constructor(
    private readonly base: string,
    private token: string | undefined,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** The session token (kept by the session across reloads). */
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

  /** GET /auth/me. */
  me(): Promise<Principal> {
    return this.request('GET', '/auth/me');
  }

  /** POST /auth/logout (errors ignored: the token is dropped either way). */
  async logout(): Promise<void> {
    await this.request('POST', '/auth/logout').catch(() => undefined);
    this.token = undefined;
  }

  /** One call; a non-2xx answer rejects with {@link ApiError}, a network failure with `NETWORK`. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    if (res.status === 204) return undefined as T;
    const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) throw new ApiError(res.status, data.error?.code ?? 'ERROR', data.error?.message ?? res.statusText);
    return data as T;
  }
}
