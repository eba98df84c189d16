/**
 * Server side of SIP digest authentication (RFC 3261 §22.4, RFC 7616, RFC 8760): builds
 * challenges and verifies credentials. Knows nothing of SIP messages, users or storage:
 * the caller passes header values, the realm, and a credential lookup.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type AuthHeader, parseAuthHeader } from './auth-header-parser.js';
import { formatAuthHeader, type AuthParam } from './auth-header-formatter.js';
import {
  DIGEST_ALGORITHMS,
  parseDigestAlgorithm,
  type DigestAlgorithm,
  type DigestAlgorithmName,
  type DigestBaseAlgorithm,
} from './digest-algorithm.js';
import { DigestError } from './digest-error.js';
import { computeDigestResponseBytes, computeHa1, type DigestQop } from './digest-response.js';
import { DEFAULT_NONCE_TTL_MS, NonceIssuer } from './nonce-issuer.js';
import { NonceCountTracker } from './nonce-count-tracker.js';

/** What the credential lookup returns for a known user: the password, or precomputed HA1 per base algorithm. */
export type StoredCredentials =
  { readonly password: string } | { readonly ha1: Readonly<Partial<Record<DigestBaseAlgorithm, string>>> };

/** Finds a user's secret; undefined for an unknown user. May reject (store down): that is not an auth failure. */
export type CredentialLookup = (username: string, realm: string) => Promise<StoredCredentials | undefined>;

/**
 * Why credentials were refused. Unknown users and wrong passwords both give 'bad-response', so
 * verify never returns 'unknown-user'; it stays in the union for callers that map reasons.
 */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown-user'
  | 'bad-response'
  | 'stale'
  | 'replay'
  | 'realm-mismatch'
  | 'unsupported-algorithm'
  | 'invalid-nonce'
  | 'foreign-nonce'
  | 'qop-required'
  | 'throttled';

/** The outcome of {@link DigestAuthenticator.verify}. */
export type AuthResult =
  | {
      readonly ok: true;
      readonly username: string;
      readonly algorithm: DigestAlgorithmName;
      /** The `uri` parameter, for the caller to compare with the Request-URI (RFC 7616 §3.4.6). */
      readonly uri: string;
    }
  | { readonly ok: false; readonly reason: AuthFailureReason };

/** One verification: the request facts the digest covers, and where to find the user's secret. */
export interface DigestVerifyRequest {
  readonly method: string;
  /**
   * The Authorization / Proxy-Authorization value (see pickCredentials), or that value already parsed
   * (pickParsedCredentials); undefined when absent.
   */
  readonly credentials: string | AuthHeader | undefined;
  /** The realm this request must authenticate in. */
  readonly realm: string;
  /** When set, credentials for another username fail with 'bad-response' (e.g. the AOR's user for REGISTER). */
  readonly expectedUsername?: string | undefined;
  readonly lookup: CredentialLookup;
  /** Message body, hashed for qop=auth-int. */
  readonly body?: string | Uint8Array | undefined;
  /**
   * Who is answering (see {@link DigestAuthenticator.challenge}'s binding): a nonce issued to
   * another binding gives 'foreign-nonce'. Default: the empty binding.
   */
  readonly binding?: string | undefined;
  /** Refuse credentials without qop for this request ('qop-required'), whatever allowNoQop says. */
  readonly requireQop?: boolean | undefined;
  /**
   * Asked once the nonce is known to be ours and issued to this binding, before the secret is
   * looked up: false skips the check ('throttled', a per-account slow-down).
   */
  readonly admit?: (() => boolean) | undefined;
}

/** Options for {@link DigestAuthenticator}. */
export interface DigestAuthenticatorOptions {
  /** Nonce HMAC key, at least 16 bytes. */
  readonly key: string | Uint8Array;
  /** Nonce lifetime (default 300 000 ms); older nonces get 'stale'. */
  readonly nonceTtlMs?: number;
  /** Milliseconds since the epoch (default Date.now). */
  readonly clock?: () => number;
  /** Algorithms offered and accepted, most preferred first (default ['SHA-256', 'MD5']). */
  readonly algorithms?: readonly DigestAlgorithmName[];
  /** qop values offered and accepted (default ['auth']). */
  readonly qop?: readonly DigestQop[];
  /**
   * Accept RFC 2069-style credentials without qop (default true). RFC 3261 §22.4: qop "must
   * unfortunately remain optional for clients and servers to receive". Such credentials have
   * no nonce-count, so a nonce answered without qop is good for one request only (a second use
   * gets 'stale', a fresh nonce); with the binding, a capture cannot be replayed from elsewhere.
   */
  readonly allowNoQop?: boolean;
  /** Most nonces tracked for nonce-count replay (default 100 000). */
  readonly maxTrackedNonces?: number;
}

type Failure = Extract<AuthResult, { ok: false }>;
const failure = (reason: AuthFailureReason): Failure => Object.freeze({ ok: false, reason });
const MISSING = failure('missing');
const MALFORMED = failure('malformed');
const BAD_RESPONSE = failure('bad-response');
const STALE = failure('stale');
const REPLAY = failure('replay');
const REALM_MISMATCH = failure('realm-mismatch');
const UNSUPPORTED_ALGORITHM = failure('unsupported-algorithm');
const INVALID_NONCE = failure('invalid-nonce');
const FOREIGN_NONCE = failure('foreign-nonce');
const QOP_REQUIRED = failure('qop-required');
const THROTTLED = failure('throttled');

/** Stands for the nonce while a challenge's fixed text is built; never part of a realm that is cached. */
const NONCE_MARK = '\u0001';
/** Realms whose challenge text is kept (the domains served; the cache restarts when full). */
const MAX_CACHED_REALMS = 1024;

const isHex = (s: string, length: number): boolean => {
  if (s.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i) | 0x20; // fold A-F to a-f
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
};

/** Issues digest challenges and verifies digest credentials for any number of realms. */
export class DigestAuthenticator {
  readonly #nonces: NonceIssuer;
  readonly #counts: NonceCountTracker;
  readonly #algorithms: readonly DigestAlgorithm[];
  readonly #accepted: ReadonlySet<DigestAlgorithmName>;
  readonly #qop: readonly DigestQop[];
  readonly #qopParam: string;
  readonly #allowNoQop: boolean;
  /** Challenge text before and after the nonce, per algorithm, by realm (see challenge). */
  readonly #challengeParts = new Map<string, ReadonlyArray<readonly [string, string]>>();
  readonly #staleChallengeParts = new Map<string, ReadonlyArray<readonly [string, string]>>();
  /** Stands in for the password of unknown users so they take the same path as known ones. */
  readonly #dummyPassword: string;

  constructor(options: DigestAuthenticatorOptions) {
    const clock = options.clock ?? Date.now;
    const ttlMs = options.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS;
    this.#nonces = new NonceIssuer({ key: options.key, ttlMs, clock });
    this.#counts = new NonceCountTracker({ ttlMs, clock, maxEntries: options.maxTrackedNonces });
    const names = options.algorithms ?? ['SHA-256', 'MD5'];
    if (names.length === 0) throw new DigestError('DIGEST_INVALID_OPTION', 'at least one digest algorithm is required');
    this.#algorithms = names.map((name) => {
      const algorithm = DIGEST_ALGORITHMS[name];
      if (algorithm === undefined) throw new DigestError('DIGEST_INVALID_OPTION', `unknown digest algorithm ${name}`);
      return algorithm;
    });
    this.#accepted = new Set(names);
    this.#qop = options.qop ?? ['auth'];
    if (this.#qop.length === 0) throw new DigestError('DIGEST_INVALID_OPTION', 'at least one qop is required');
    this.#qopParam = this.#qop.join(',');
    this.#allowNoQop = options.allowNoQop ?? true;
    this.#dummyPassword = randomBytes(18).toString('base64url');
  }

  /**
   * Challenge values for a 401 WWW-Authenticate or 407 Proxy-Authenticate: one per algorithm,
   * most preferred first (RFC 8760 §2.4, RFC 7616 §3.7), sharing one fresh nonce. RFC 3261 §22.4:
   * servers "MUST always send a qop parameter". `stale` marks a retry with a new nonce (RFC 7616 §3.3).
   */
  challenge(
    realm: string,
    options: { readonly stale?: boolean; readonly binding?: string | undefined } = {},
  ): string[] {
    const nonce = this.#nonces.issue(realm, options.binding);
    const stale = options.stale === true;
    if (realm.includes(NONCE_MARK)) return this.#formatChallenges(realm, nonce, stale);
    // The text around the nonce depends only on realm and stale: built once per realm, then joined.
    const cache = stale ? this.#staleChallengeParts : this.#challengeParts;
    let parts = cache.get(realm);
    if (parts === undefined) {
      parts = this.#formatChallenges(realm, NONCE_MARK, stale).map((c) => {
        const at = c.indexOf(NONCE_MARK);
        return [c.slice(0, at), c.slice(at + NONCE_MARK.length)] as const;
      });
      if (cache.size >= MAX_CACHED_REALMS) cache.clear();
      cache.set(realm, parts);
    }
    const out: string[] = [];
    for (const [before, after] of parts) out.push(before + nonce + after);
    return out;
  }

  #formatChallenges(realm: string, nonce: string, stale: boolean): string[] {
    const out: string[] = [];
    for (const algorithm of this.#algorithms) {
      const params: AuthParam[] = [
        ['realm', realm],
        ['nonce', nonce],
        ['algorithm', algorithm.name],
        ['qop', this.#qopParam, 'quoted'],
      ];
      if (stale) params.push(['stale', 'true']);
      out.push(formatAuthHeader('Digest', params));
    }
    return out;
  }

  /** Verifies one credentials value. Never rejects for bad input; rejects only if `lookup` does. */
  async verify(request: DigestVerifyRequest): Promise<AuthResult> {
    const { credentials } = request;
    if (credentials === undefined) return MISSING;
    let header: AuthHeader;
    if (typeof credentials === 'string') {
      const parsed = parseAuthHeader(credentials);
      if (!parsed.ok) return parsed.error === 'empty' ? MISSING : MALFORMED;
      header = parsed.header;
    } else header = credentials;
    if (header.scheme.toLowerCase() !== 'digest') return MALFORMED;
    const p = header.params;

    const username = p.get('username');
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined) return MALFORMED;
    if (response === undefined) return MALFORMED;
    // RFC 7616 §3.4.4 userhash and username* are never offered here, so a client must not send them.
    if (p.has('username*') || p.get('userhash')?.toLowerCase() === 'true') return MALFORMED;

    // RFC 7616 §3.3: "If this is not present, it is assumed to be MD5."
    const algorithmParam = p.get('algorithm');
    const algorithm = algorithmParam === undefined ? DIGEST_ALGORITHMS.MD5 : parseDigestAlgorithm(algorithmParam);
    if (algorithm === undefined) return UNSUPPORTED_ALGORITHM;
    if (!isHex(response, algorithm.hexLength)) return MALFORMED;

    const qopParam = p.get('qop');
    let qop: DigestQop | undefined;
    let nc: string | undefined;
    let cnonce: string | undefined;
    let ncValue = 0;
    if (qopParam !== undefined) {
      const q = qopParam.toLowerCase();
      if (q !== 'auth' && q !== 'auth-int') return MALFORMED;
      qop = q;
      // RFC 7616 §3.4: with qop, cnonce and nc MUST be sent; nc-value = 8LHEX.
      nc = p.get('nc');
      cnonce = p.get('cnonce');
      if (nc === undefined || cnonce === undefined || cnonce.length === 0 || !isHex(nc, 8)) return MALFORMED;
      ncValue = Number.parseInt(nc, 16);
      if (ncValue === 0) return MALFORMED;
      if (!this.#qop.includes(qop)) return MALFORMED;
    } else {
      if (request.requireQop === true) return QOP_REQUIRED;
      if (!this.#allowNoQop) return MALFORMED;
      // -sess needs a cnonce, which only comes with qop.
      if (algorithm.session) return MALFORMED;
    }

    if (realm !== request.realm) return REALM_MISMATCH;
    if (!this.#accepted.has(algorithm.name)) return UNSUPPORTED_ALGORITHM;
    const nonceCheck = this.#nonces.check(nonce, realm, request.binding);
    if (nonceCheck.status === 'invalid') return INVALID_NONCE;
    // Issued to another source or connection: a capture replayed from elsewhere, or a client that
    // moved. Either way nothing is checked (and nothing counted against the source): a fresh challenge.
    if (nonceCheck.status === 'foreign') return FOREIGN_NONCE;
    // Depends only on what the client sent, so answering early reveals nothing about users.
    if (request.expectedUsername !== undefined && username !== request.expectedUsername) return BAD_RESPONSE;
    if (request.admit !== undefined && !request.admit()) return THROTTLED;

    const stored = await request.lookup(username, realm);
    // Unknown users, and users without a secret for this algorithm, are checked against a
    // random password: same work, same answer as a wrong password.
    let ha1: string | undefined;
    if (stored !== undefined) {
      if ('password' in stored) ha1 = computeHa1(algorithm, username, realm, stored.password);
      else if (stored.ha1[algorithm.base] !== undefined) ha1 = stored.ha1[algorithm.base]?.toLowerCase();
    }
    const known = ha1 !== undefined;
    ha1 ??= computeHa1(algorithm, username, realm, this.#dummyPassword);

    const expected = computeDigestResponseBytes({
      algorithm,
      ha1,
      nonce,
      method: request.method,
      uri,
      qop,
      nc,
      cnonce,
      body: request.body,
    });
    const matches = timingSafeEqual(expected, Buffer.from(response, 'hex'));
    if (!matches || !known) return BAD_RESPONSE;

    // RFC 7616 §3.3 stale: only for a request whose digest is valid but whose nonce is not.
    if (nonceCheck.status === 'stale') return STALE;
    if (qop !== undefined) {
      const verdict = this.#counts.accept(nonce, ncValue, nonceCheck.issuedAt);
      if (verdict === 'replay') return REPLAY;
      if (verdict === 'forgotten') return STALE;
    } else if (this.#counts.acceptOnce(nonce, nonceCheck.issuedAt) !== 'accepted') {
      // A one-time nonce used again: the client gets a fresh one (stale=true), as after expiry.
      return STALE;
    }
    return { ok: true, username, algorithm: algorithm.name, uri };
  }
}
