/**
 * Server settings the Debian test peers need, passed to startHandset().
 *
 * Digest: SIPp 3.6.1 answers only the first challenge and only with MD5 ("createAuthHeader:
 * authentication must use MD5 or AKAv1-MD5" when SHA-256 comes first), and baresip 1.0 (libre)
 * fails the REGISTER with ENOSYS as soon as any offered challenge is not MD5, even when an MD5 one
 * is offered as well (RFC 8760 §2.4 says to ignore unsupported ones). Both checked against a stub
 * registrar offering [SHA-256, MD5], [MD5, SHA-256], [SHA-256] and [MD5]: only [MD5] works for both.
 */
export const interopEnv: Readonly<Record<string, string>> = { HANDSET_DIGEST_ALGORITHMS: 'MD5' };
