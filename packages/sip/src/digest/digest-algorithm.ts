/**
 * The digest hash algorithms of the IANA "HTTP Digest Hash Algorithms" registry that SIP
 * uses (RFC 7616 §3.3 and §6.1, RFC 8760 §2.1), and how each maps to a Node hash.
 */

/** Algorithm names as they appear in the `algorithm` parameter. */
export type DigestAlgorithmName = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** The hash an algorithm (and its -sess variant) is built on; the key of a stored HA1. */
export type DigestBaseAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** One digest algorithm. */
export interface DigestAlgorithm {
  readonly name: DigestAlgorithmName;
  readonly base: DigestBaseAlgorithm;
  /** Node `crypto` hash name. */
  readonly hash: 'md5' | 'sha256' | 'sha512-256';
  /** A -sess variant (RFC 7616 §3.4.2): HA1 also covers nonce and cnonce. */
  readonly session: boolean;
  /** Length of a digest in lowercase hex. */
  readonly hexLength: 32 | 64;
}

const algorithm = (
  name: DigestAlgorithmName,
  base: DigestBaseAlgorithm,
  hash: DigestAlgorithm['hash'],
  session: boolean,
): DigestAlgorithm => Object.freeze({ name, base, hash, session, hexLength: hash === 'md5' ? 32 : 64 });

/** Every supported algorithm by its exact name. */
export const DIGEST_ALGORITHMS: Readonly<Record<DigestAlgorithmName, DigestAlgorithm>> = Object.freeze({
  MD5: algorithm('MD5', 'MD5', 'md5', false),
  'MD5-sess': algorithm('MD5-sess', 'MD5', 'md5', true),
  'SHA-256': algorithm('SHA-256', 'SHA-256', 'sha256', false),
  'SHA-256-sess': algorithm('SHA-256-sess', 'SHA-256', 'sha256', true),
  'SHA-512-256': algorithm('SHA-512-256', 'SHA-512-256', 'sha512-256', false),
  'SHA-512-256-sess': algorithm('SHA-512-256-sess', 'SHA-512-256', 'sha512-256', true),
});

const BY_UPPER_NAME: ReadonlyMap<string, DigestAlgorithm> = new Map(
  Object.values(DIGEST_ALGORITHMS).map((a) => [a.name.toUpperCase(), a]),
);

/**
 * Looks an `algorithm` parameter value up, case-insensitively (RFC 7616 §3.3: "algorithm ...
 * a token"; names compare case-insensitively in practice, e.g. `md5-sess`). Undefined when unknown.
 */
export function parseDigestAlgorithm(token: string): DigestAlgorithm | undefined {
  return BY_UPPER_NAME.get(token.toUpperCase());
}
