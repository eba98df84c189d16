/**
 * Chooses our credentials among several Authorization / Proxy-Authorization values
 * (RFC 3261 §22.3: a request that crossed several proxies can carry one per realm, and a
 * proxy "MUST attempt to parse all ... to determine whether one of them" is for it).
 */
import { parseAuthHeader } from './auth-header-parser.js';

/** The first Digest value whose realm is `realm`, or undefined. Malformed values are skipped. */
export function pickCredentials(values: readonly string[], realm: string): string | undefined {
  for (const value of values) {
    const parsed = parseAuthHeader(value);
    if (parsed.ok && parsed.header.scheme.toLowerCase() === 'digest' && parsed.header.params.get('realm') === realm) {
      return value;
    }
  }
  return undefined;
}
