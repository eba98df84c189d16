/**
 * A string with the same text that shares no memory with `s`. V8 keeps substrings of 13 or more
 * characters as views of their parent, so a header value kept for minutes (a binding's Call-ID, a
 * nonce) would otherwise keep the whole received message in memory with it.
 *
 * `' ' + s` makes a new two-part string; slicing it flattens that into fresh storage of its own (in
 * the representation `s` already had: one byte per character for ASCII text) and views that, one
 * character longer than `s`. About a third of the CPU of a round trip through a Buffer, and the copy
 * stays a one-byte string where `s` was one, which compares and hashes fastest against new input.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** {@link ownCopy} of an optional string. */
export function ownCopyOf(s: string | undefined): string | undefined {
  return s === undefined ? undefined : ownCopy(s);
}
