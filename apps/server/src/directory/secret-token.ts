import { createHash, randomBytes } from 'node:crypto';

/** Kinds of bearer secret: API tokens and login sessions. */
export type SecretTokenKind = 'api' | 'session';

const PREFIX: Record<SecretTokenKind, string> = { api: 'hst_', session: 'hss_' };

/**
 * Bearer secrets: 32 random bytes with a kind prefix (`hst_` API token, `hss_` session). Only the
 * SHA-256 is stored; high-entropy secrets need no slow hash, and look-up by hash stays an index read.
 */
export const secretToken = {
  /** A new secret and what to store of it. */
  create(kind: SecretTokenKind): { token: string; hash: string; prefix: string } {
    const token = PREFIX[kind] + randomBytes(32).toString('base64url');
    return { token, hash: secretToken.hash(token), prefix: token.slice(0, 10) };
  },

  /** The stored form of a presented secret. */
  hash(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex');
  },

  /** The kind a presented secret claims by its prefix, or undefined. */
  kindOf(token: string): SecretTokenKind | undefined {
    if (token.startsWith(PREFIX.api)) return 'api';
    if (token.startsWith(PREFIX.session)) return 'session';
    return undefined;
  },
};
