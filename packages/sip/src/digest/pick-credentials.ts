/**
 * Chooses our credentials among several Authorization / Proxy-Authorization values
 * (RFC 3261 §22.3: a request that crossed several proxies can carry one per realm, and a
 * proxy "MUST attempt to parse all ... to determine whether one of them" is for it).
 */
import { type AuthHeader, parseAuthHeader } from './auth-header-parser.js';

/** The first Digest value whose realm is `realm`, or undefined. Malformed values are skipped. */
export function pickCredentials(values: readonly string[], realm: string): string | undefined {
  return pickParsedCredentials(values, realm)?.value;
}

/** A chosen credentials value and its parse. */
export interface PickedCredentials {
  readonly value: string;
  readonly header: AuthHeader;
}

/**
 * Like pickCredentials, and also returns the value parsed, for DigestAuthenticator.verify: the
 * value is parsed once per request rather than once to choose it and again to check it.
 */
export function pickParsedCredentials(values: readonly string[], realm: string): PickedCredentials | undefined {
  for (const value of values) {
    const header = ourDigest(value, realm);
    if (header !== undefined) return { value, header };
  }
  return undefined;
}

function ourDigest(value: string, realm: string): AuthHeader | undefined {
  const parsed = parseAuthHeader(value);
  return parsed.ok && parsed.header.scheme.toLowerCase() === 'digest' && parsed.header.params.get('realm') === realm
    ? parsed.header
    : undefined;
}
