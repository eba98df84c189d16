/**
 * MAC addresses as people and phones write them: `80:5E:C0:12:34:56`, `80-5e-c0-12-34-56`,
 * `805e.c012.3456` (Cisco), `805EC0123456`. One canonical form is kept: 12 lower-case hex digits.
 */

const SEPARATED = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/;
const DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;
const PLAIN = /^[0-9a-f]{12}$/;

/** The canonical MAC (12 lower-case hex digits) of `input` in any common notation, or undefined. */
export function normalizeMac(input: string): string | undefined {
  if (input.length > 17) return undefined;
  const s = input.trim().toLowerCase();
  if (!PLAIN.test(s) && !SEPARATED.test(s) && !DOTTED.test(s)) return undefined;
  const mac = s.replace(/[:.-]/g, '');
  // All zeros is Polycom's "any phone" file name, and all ones the broadcast address: never a phone.
  if (mac === '000000000000' || mac === 'ffffffffffff') return undefined;
  return mac;
}

/** `805ec0123456` -> `80:5e:c0:12:34:56`. */
export function colonMac(mac: string): string {
  return mac.match(/../g)!.join(':');
}

/** Every 12-hex-digit MAC-like token in `text` (any notation), canonical; for User-Agent checks. */
export function macsIn(text: string): string[] {
  const found: string[] = [];
  const re = /(?:^|[^0-9a-f])((?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}|[0-9a-f]{12})(?![0-9a-f])/gi;
  for (const m of text.matchAll(re)) {
    const mac = normalizeMac(m[1]!);
    if (mac) found.push(mac);
  }
  return found;
}
