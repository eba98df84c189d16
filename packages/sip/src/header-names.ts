/**
 * Header names: compact forms (RFC 3261 §7.3.3 and later RFCs) and the canonical
 * spelling used when serializing. Lookups are by the lowercase canonical name.
 */

const COMPACT: Readonly<Record<string, string>> = {
  a: 'Accept-Contact', // RFC 3841
  b: 'Referred-By', // RFC 3892
  c: 'Content-Type',
  d: 'Request-Disposition', // RFC 3841
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact', // RFC 3841
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  o: 'Event', // RFC 6665
  r: 'Refer-To', // RFC 3515
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events', // RFC 6665
  v: 'Via',
  x: 'Session-Expires', // RFC 4028
  y: 'Identity', // RFC 8224
};

const CANONICAL_LIST = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event',
  'Expires', 'Flow-Timer', 'From', 'Identity', 'In-Reply-To', 'Max-Forwards', 'MIME-Version', 'Min-Expires',
  'Min-SE', 'Organization', 'P-Asserted-Identity', 'Path', 'Priority', 'Proxy-Authenticate',
  'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By',
  'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Server',
  'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

const CANONICAL = new Map<string, string>(CANONICAL_LIST.map((n) => [n.toLowerCase(), n]));
for (const [short, long] of Object.entries(COMPACT)) CANONICAL.set(short, long);

/** The canonical spelling of a header name; compact forms expand, unknown names are kept as written. */
export function canonicalHeaderName(name: string): string {
  return KNOWN.get(name)?.name ?? CANONICAL.get(name.toLowerCase()) ?? name;
}

/** The lookup key of a header name: lowercase, compact forms expanded. */
export function headerKey(name: string): string {
  const known = KNOWN.get(name);
  if (known !== undefined) return known.key;
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const long = COMPACT[lower];
    if (long !== undefined) return long.toLowerCase();
  }
  return lower;
}

/**
 * Headers whose value is a comma-separated list that may equally be split over
 * several header lines (RFC 3261 §7.3.1). Others (e.g. WWW-Authenticate, Date) are
 * never split on commas.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'path', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'in-reply-to', 'content-encoding',
  'content-language', 'warning', 'alert-info', 'call-info', 'error-info', 'reply-to', 'accept-contact',
  'reject-contact', 'p-asserted-identity', 'reason', 'service-route',
]);

/** Headers that a message may carry at most once (RFC 3261 §20, Table 2/3). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires', 'min-expires',
]);

/** How a header name is written and looked up, and its bit when the header may appear only once (else 0). */
export interface HeaderNameInfo {
  readonly name: string;
  readonly key: string;
  readonly singleBit: number;
}

const SINGLE_BITS = new Map<string, number>([...SINGLE_HEADERS].map((k, i) => [k, 1 << i]));

/**
 * Name info for the spellings seen on the wire most (canonical, lowercase, compact in both cases),
 * so that parsing a header name is one Map lookup that allocates nothing. Built once, never changed.
 */
const KNOWN: ReadonlyMap<string, HeaderNameInfo> = (() => {
  const m = new Map<string, HeaderNameInfo>();
  const info = (key: string): HeaderNameInfo => ({
    name: CANONICAL.get(key) ?? key,
    key,
    singleBit: SINGLE_BITS.get(key) ?? 0,
  });
  for (const [lower, canonical] of CANONICAL) {
    if (lower.length === 1) continue;
    const i = info(lower);
    m.set(canonical, i);
    m.set(lower, i);
  }
  for (const [short, long] of Object.entries(COMPACT)) {
    const i = info(long.toLowerCase());
    m.set(short, i);
    m.set(short.toUpperCase(), i);
  }
  return m;
})();

/** Name, key and single-header bit of a header name as written on the wire. */
export function headerNameInfo(name: string): HeaderNameInfo {
  const known = KNOWN.get(name);
  if (known !== undefined) return known;
  const key = headerKey(name);
  return { name: canonicalHeaderName(name), key, singleBit: SINGLE_BITS.get(key) ?? 0 };
}
