/** Where an API caller's token travels, and who checks it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../directory/principal.js';

/** Resolves an API token or session token to its principal (the API's ApiAuthenticator). */
export interface TokenAuthenticator {
  authenticateToken(token: string): Promise<Principal | undefined>;
}

/** Longer than any token we issue; longer input is refused without a lookup. */
export const MAX_TOKEN_LENGTH = 512;

/**
 * The token of a request: `Authorization: Bearer <t>`, the `token` header (Phonenet style), or,
 * where headers cannot be set (a browser's WebSocket), the `token` query parameter. Undefined
 * when absent, empty or oversized.
 */
export function requestToken(headers: IncomingHttpHeaders, query?: URLSearchParams): string | undefined {
  const auth = headers.authorization;
  const bearer = auth !== undefined && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : undefined;
  const header = headers.token;
  const candidate = bearer ?? (typeof header === 'string' ? header : undefined) ?? query?.get('token') ?? undefined;
  const token = candidate?.trim();
  if (token === undefined || token === '' || token.length > MAX_TOKEN_LENGTH) return undefined;
  return token;
}
