/**
 * A string with the same text that shares no memory with `s`. V8 keeps substrings of 13 or more
 * characters as views of their parent, so a header value kept for minutes (a binding's Call-ID, a
 * nonce) would otherwise keep the whole received message in memory with it.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf16le').toString('utf16le');
}

/** {@link ownCopy} of an optional string. */
export function ownCopyOf(s: string | undefined): string | undefined {
  return s === undefined ? undefined : ownCopy(s);
}
