/**
 * Client side of digest authentication: answers one WWW-Authenticate / Proxy-Authenticate
 * challenge value with an Authorization / Proxy-Authorization value (RFC 7616 §3.4, RFC 8760).
 */
import { randomBytes } from 'node:crypto';
import { parseAuthHeader } from './auth-header-parser.js';
import { formatAuthHeader, type AuthParam } from './auth-header-formatter.js';
import { DIGEST_ALGORITHMS, parseDigestAlgorithm } from './digest-algorithm.js';
import { DigestError } from './digest-error.js';
import { computeDigestResponse, computeHa1, type DigestQop } from './digest-response.js';

/** What the client knows about the request it authenticates. */
export interface AuthorizationOptions {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  /** The Request-URI, exactly as it will be sent. */
  readonly uri: string;
  /** Client nonce (default 16 random bytes, base64url). */
  readonly cnonce?: string;
  /** Nonce count, 1 for the first request with this nonce (default 1). */
  readonly nc?: number;
  /** Message body, for qop=auth-int. */
  readonly body?: string | Uint8Array;
  /** Preferred qop when the challenge offers several (default 'auth'). */
  readonly qop?: DigestQop;
}

/**
 * Computes the credentials answering `challengeValue`. Throws DigestError
 * (DIGEST_MALFORMED_CHALLENGE, DIGEST_UNSUPPORTED_ALGORITHM, DIGEST_UNSUPPORTED_QOP) when the
 * challenge cannot be answered; the challenge comes from a peer, so callers catch it.
 */
export function computeAuthorization(challengeValue: string, options: AuthorizationOptions): string {
  const parsed = parseAuthHeader(challengeValue);
  if (!parsed.ok) throw new DigestError('DIGEST_MALFORMED_CHALLENGE', `malformed challenge (${parsed.error})`);
  if (parsed.header.scheme.toLowerCase() !== 'digest') {
    throw new DigestError('DIGEST_MALFORMED_CHALLENGE', 'not a Digest challenge');
  }
  const p = parsed.header.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined) {
    throw new DigestError('DIGEST_MALFORMED_CHALLENGE', 'challenge lacks realm or nonce');
  }
  const algorithmParam = p.get('algorithm');
  const algorithm = algorithmParam === undefined ? DIGEST_ALGORITHMS.MD5 : parseDigestAlgorithm(algorithmParam);
  if (algorithm === undefined) throw new DigestError('DIGEST_UNSUPPORTED_ALGORITHM', 'unsupported digest algorithm');

  // RFC 3261 §22.4: "If a client receives a qop parameter in a challenge header field, it MUST send the qop parameter".
  let qop: DigestQop | undefined;
  const qopParam = p.get('qop');
  if (qopParam !== undefined) {
    const offered = qopParam.split(',').map((q) => q.trim().toLowerCase());
    const preferred = options.qop ?? 'auth';
    if (offered.includes(preferred)) qop = preferred;
    else if (offered.includes('auth')) qop = 'auth';
    else if (offered.includes('auth-int')) qop = 'auth-int';
    else throw new DigestError('DIGEST_UNSUPPORTED_QOP', 'challenge offers no qop we support');
  }

  const withCnonce = qop !== undefined || algorithm.session;
  const cnonce = withCnonce ? (options.cnonce ?? randomBytes(16).toString('base64url')) : undefined;
  const ncNumber = options.nc ?? 1;
  if (!Number.isInteger(ncNumber) || ncNumber < 1 || ncNumber > 0xffffffff) {
    throw new DigestError('DIGEST_INVALID_OPTION', 'nc must be an integer from 1 to 0xffffffff');
  }
  const nc = qop === undefined ? undefined : ncNumber.toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    algorithm,
    ha1: computeHa1(algorithm, options.username, realm, options.password),
    nonce,
    method: options.method,
    uri: options.uri,
    qop,
    nc,
    cnonce,
    body: options.body,
  });

  const params: AuthParam[] = [
    ['username', options.username],
    ['realm', realm],
    ['nonce', nonce],
    ['uri', options.uri],
    ['response', response],
    ['algorithm', algorithm.name],
  ];
  if (cnonce !== undefined) params.push(['cnonce', cnonce]);
  // RFC 7616 §3.4: qop and nc are never quoted in credentials.
  if (qop !== undefined && nc !== undefined) params.push(['qop', qop, 'token'], ['nc', nc]);
  const opaque = p.get('opaque');
  if (opaque !== undefined) params.push(['opaque', opaque]);
  return formatAuthHeader('Digest', params);
}
