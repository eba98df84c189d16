/** The SIP message model (RFC 3261 §7): start line, ordered headers, body bytes. */
import { isToken, isWsp, splitList } from './grammar.js';
import { canonicalHeaderName, headerKey, LIST_HEADERS } from './header-names.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-error.js';
import { parseUri, type SipUri } from './sip-uri.js';
import { parseVia, type Via } from './via.js';

/** One header line: name as it will be written, lookup key, value (unfolded, trimmed). */
export interface Header {
  name: string;
  key: string;
  value: string;
}

/** The CSeq header (RFC 3261 §20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

const EMPTY = Buffer.alloc(0);

/**
 * What both requests and responses have. Parsed header views (Via, From, To, CSeq, Contact,
 * Route, Record-Route) are built on first use and kept until that header changes.
 */
export abstract class SipMessage {
  body: Buffer;
  // The headers, or (after compact()) their packed form; exactly one of the two is set.
  private headerList: Header[] | undefined;
  private packedHeaders: string | undefined = undefined;
  // Parsed views, one field each (cheaper than a Map per message); undefined = not built yet.
  private viaView: Via[] | undefined = undefined;
  // The top Via alone, when only it was asked for (firstVia) and the whole list is not parsed.
  private topViaView: Via | undefined = undefined;
  private fromView: NameAddr | undefined = undefined;
  private toView: NameAddr | undefined = undefined;
  private cseqView: CSeq | undefined = undefined;
  private contactView: NameAddr[] | '*' | undefined = undefined;
  private routeView: NameAddr[] | undefined = undefined;
  private recordRouteView: NameAddr[] | undefined = undefined;

  constructor(headers: Header[] = [], body: Buffer = EMPTY) {
    this.headerList = headers;
    this.body = body;
  }

  /** Headers in wire order. Mutate through the methods so the parsed views stay valid. */
  get headers(): Header[] {
    return this.headerList ?? this.unpackHeaders();
  }

  abstract isRequest(): this is SipRequest;

  /** First value of a header (whole line; list headers are not split), or undefined. */
  getHeader(name: string): string | undefined {
    const key = headerKey(name);
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) if (headers[i]!.key === key) return headers[i]!.value;
    return undefined;
  }

  /** All values of a header; list headers (Via, Contact, Route, ...) are split on top-level commas. */
  getHeaders(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    const list = LIST_HEADERS.has(key);
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (!list) out.push(h.value);
      else if (!h.value.includes(',')) {
        const one = h.value.trim();
        if (one.length > 0) out.push(one);
      } else for (const v of splitList(h.value)) out.push(v);
    }
    return out;
  }

  /** True when at least one header of that name is present. */
  hasHeader(name: string): boolean {
    const key = headerKey(name);
    return this.headers.some((h) => h.key === key);
  }

  /** Replaces every header of that name with one value (appended where the first one was, else at the end). */
  setHeader(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    this.removeHeader(name);
    const h = { name: canonicalHeaderName(name), key, value };
    if (idx >= 0) this.headers.splice(idx, 0, h);
    else this.headers.push(h);
    return this;
  }

  /** Adds a header line after the others. */
  appendHeader(name: string, value: string): this {
    const key = headerKey(name);
    this.headers.push({ name: canonicalHeaderName(name), key, value });
    this.invalidate(key);
    return this;
  }

  /** Adds a header line before any other line of the same name (e.g. a new top Via or Record-Route). */
  prependHeader(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    const h = { name: canonicalHeaderName(name), key, value };
    if (idx >= 0) this.headers.splice(idx, 0, h);
    else this.headers.push(h);
    this.invalidate(key);
    return this;
  }

  /** Removes every header of that name. */
  removeHeader(name: string): this {
    const key = headerKey(name);
    for (let i = this.headers.length - 1; i >= 0; i--) if (this.headers[i]!.key === key) this.headers.splice(i, 1);
    this.invalidate(key);
    return this;
  }

  /**
   * Removes the first element of a list header (the top Via, the top Route): the first
   * comma-separated value of the first line, or the whole line when it holds one value.
   */
  removeFirstValue(name: string): string | undefined {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    if (idx < 0) return undefined;
    const h = this.headers[idx]!;
    const values = splitList(h.value);
    const first = values.shift();
    if (values.length === 0) this.headers.splice(idx, 1);
    // A new object, not an edit: header objects may be shared with a request (see createResponse).
    else this.headers[idx] = { name: h.name, key: h.key, value: values.join(', ') };
    // A parsed list view loses its first element too (a proxy drops its own Via from every response and
    // then reads the next one: no need to parse the rest again). An empty first line is not in the view.
    if (first !== undefined && this.shiftView(key)) return first;
    this.invalidate(key);
    return first;
  }

  /**
   * Replaces the top Via element with `value`, whose parsed form is `parsed` (the server
   * transport's received/rport stamping, RFC 3261 §18.2.1). Other Via elements stay as they are.
   */
  replaceTopVia(value: string, parsed: Via): this {
    const idx = this.headers.findIndex((h) => h.key === 'via');
    const h = idx < 0 ? undefined : this.headers[idx];
    const current = this.viaView;
    if (h === undefined || h.value.includes(',') || current === undefined) {
      // The general case: a list in the first line, or no parsed view to patch.
      this.removeFirstValue('via');
      this.prependHeader('via', value);
      return this;
    }
    this.headers[idx] = { name: h.name, key: 'via', value };
    const via = current.slice();
    via[0] = parsed;
    this.viaView = via;
    this.topViaView = undefined;
    return this;
  }

  /**
   * Shrinks the message while it only waits in memory (a completed transaction absorbing
   * retransmissions): drops the parsed views and packs the headers into one string, so the
   * garbage collector has one object to move instead of dozens. Everything is rebuilt, equal
   * to before, on first use.
   */
  compact(): void {
    if (this.headerList !== undefined) {
      this.packedHeaders = packHeaders(this.headerList);
      if (this.packedHeaders !== undefined) this.headerList = undefined;
    }
    // An empty body is a view of the whole received datagram: let that go.
    if (this.body.length === 0) this.body = EMPTY;
    this.viaView = undefined;
    this.topViaView = undefined;
    this.fromView = undefined;
    this.toView = undefined;
    this.cseqView = undefined;
    this.contactView = undefined;
    this.routeView = undefined;
    this.recordRouteView = undefined;
  }

  /** Via elements, top (most recent hop) first. */
  get via(): Via[] {
    return (this.viaView ??= this.getHeaders('via').map(parseVia));
  }

  /** The top Via. Every valid message has one (checked by the parser). */
  get topVia(): Via {
    const v = this.firstVia();
    if (v === undefined) throw new SipParseError('missing Via');
    return v;
  }

  /**
   * The top Via, or undefined when there is none. Unlike `via[0]` it parses only that element when
   * the list has not been parsed yet: a request a proxy builds has its new Via on top of the caller's,
   * and sending it needs only the top one's branch.
   */
  firstVia(): Via | undefined {
    if (this.viaView !== undefined) return this.viaView[0];
    if (this.topViaView !== undefined) return this.topViaView;
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      if (h.key !== 'via') continue;
      // An empty line holds no element (as in getHeaders); the list goes on with the next line.
      const first = h.value.includes(',') ? splitList(h.value)[0] : h.value.trim();
      if (first === undefined || first.length === 0) continue;
      return (this.topViaView = parseVia(first));
    }
    return undefined;
  }

  get from(): NameAddr {
    return (this.fromView ??= parseNameAddr(this.required('from')));
  }

  get to(): NameAddr {
    return (this.toView ??= parseNameAddr(this.required('to')));
  }

  get callId(): string {
    return this.required('call-id');
  }

  get cseq(): CSeq {
    return (this.cseqView ??= parseCSeq(this.required('cseq')));
  }

  /** Max-Forwards, or undefined when absent. */
  get maxForwards(): number | undefined {
    const v = this.getHeader('max-forwards');
    return v === undefined ? undefined : parseSmallInt(v, 'Max-Forwards', 255);
  }

  /** Contact values; `'*'` for the wildcard of a REGISTER (RFC 3261 §10.2.2). */
  get contacts(): NameAddr[] | '*' {
    if (this.contactView !== undefined) return this.contactView;
    const values = this.getHeaders('contact');
    return (this.contactView = values.length === 1 && values[0] === '*' ? '*' : values.map(parseNameAddr));
  }

  /** Route values, top first. */
  get routes(): NameAddr[] {
    return (this.routeView ??= this.getHeaders('route').map(parseNameAddr));
  }

  /** Record-Route values, top first. */
  get recordRoutes(): NameAddr[] {
    return (this.recordRouteView ??= this.getHeaders('record-route').map(parseNameAddr));
  }

  private unpackHeaders(): Header[] {
    const list = unpackHeaders(this.packedHeaders ?? '');
    this.headerList = list;
    this.packedHeaders = undefined;
    return list;
  }

  private required(key: string): string {
    const v = this.getHeader(key);
    if (v === undefined) throw new SipParseError(`missing ${canonicalHeaderName(key)}`);
    return v;
  }

  /** Drops the first element of a parsed list view; false when there is no such view to keep. */
  private shiftView(key: string): boolean {
    switch (key) {
      case 'via':
        if (this.viaView === undefined) return false;
        this.viaView = this.viaView.slice(1);
        this.topViaView = undefined;
        return true;
      case 'route':
        if (this.routeView === undefined) return false;
        this.routeView = this.routeView.slice(1);
        return true;
      case 'record-route':
        if (this.recordRouteView === undefined) return false;
        this.recordRouteView = this.recordRouteView.slice(1);
        return true;
      default:
        return false;
    }
  }

  private invalidate(key: string): void {
    switch (key) {
      case 'via':
        this.viaView = undefined;
        this.topViaView = undefined;
        break;
      case 'from':
        this.fromView = undefined;
        break;
      case 'to':
        this.toView = undefined;
        break;
      case 'cseq':
        this.cseqView = undefined;
        break;
      case 'contact':
        this.contactView = undefined;
        break;
      case 'route':
        this.routeView = undefined;
        break;
      case 'record-route':
        this.recordRouteView = undefined;
        break;
    }
  }
}

/** A SIP request. `uri` is the Request-URI as written. */
export class SipRequest extends SipMessage {
  method: string;
  private uriText: string;
  private uriView: SipUri | undefined;
  /** `parsedUri`: `uri` parsed already (the parser's), kept as {@link requestUri}. */
  constructor(method: string, uri: string, headers: Header[] = [], body: Buffer = EMPTY, parsedUri?: SipUri) {
    super(headers, body);
    this.method = method;
    this.uriText = uri;
    this.uriView = parsedUri;
  }

  /** The Request-URI as written. */
  get uri(): string {
    return this.uriText;
  }

  set uri(value: string) {
    this.uriText = value;
    this.uriView = undefined;
  }

  /**
   * The Request-URI parsed, built once and kept until `uri` changes (the proxy and registrar read it
   * several times per request). Shared: read it, do not change it.
   */
  get requestUri(): SipUri {
    return (this.uriView ??= parseUri(this.uriText));
  }

  override compact(): void {
    super.compact();
    this.uriView = undefined;
  }

  isRequest(): this is SipRequest {
    return true;
  }
}

/** A SIP response. */
export class SipResponse extends SipMessage {
  status: number;
  reason: string;
  constructor(status: number, reason: string, headers: Header[] = [], body: Buffer = EMPTY) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
  isRequest(): this is SipRequest {
    return false;
  }
}

/** Key length marking a key that is `headerKey(name)`, so neither stored nor allocated again. */
const DERIVED_KEY = 0xffff;

/** Most headers packed (far above any real message; keeps the length prefix one argument list). */
const MAX_PACKED_HEADERS = 4096;

/**
 * Headers as one flat string: the header count, then per header four UTF-16 units of lengths
 * (name, key or DERIVED_KEY, value high and low 16 bits), then the texts in order. Undefined
 * when they do not fit that format (then they stay as they are).
 */
function packHeaders(headers: readonly Header[]): string | undefined {
  const n = headers.length;
  if (n > MAX_PACKED_HEADERS) return undefined;
  const lengths: number[] = new Array<number>(n * 4 + 1);
  const texts: string[] = new Array<string>(n * 3);
  lengths[0] = n;
  let t = 0;
  for (let i = 0; i < n; i++) {
    const h = headers[i]!;
    if (h.name.length >= DERIVED_KEY || h.key.length >= DERIVED_KEY || h.value.length > 0xffffffff) return undefined;
    const derived = headerKey(h.name) === h.key;
    lengths[i * 4 + 1] = h.name.length;
    lengths[i * 4 + 2] = derived ? DERIVED_KEY : h.key.length;
    lengths[i * 4 + 3] = h.value.length >>> 16;
    lengths[i * 4 + 4] = h.value.length & 0xffff;
    texts[t++] = h.name;
    texts[t++] = derived ? '' : h.key;
    texts[t++] = h.value;
  }
  return String.fromCharCode.apply(null, lengths) + texts.join('');
}

function unpackHeaders(packed: string): Header[] {
  const n = packed.charCodeAt(0);
  const out: Header[] = new Array<Header>(n);
  let pos = n * 4 + 1;
  for (let i = 0; i < n; i++) {
    const nameLength = packed.charCodeAt(i * 4 + 1);
    const keyLength = packed.charCodeAt(i * 4 + 2);
    const valueLength = packed.charCodeAt(i * 4 + 3) * 0x10000 + packed.charCodeAt(i * 4 + 4);
    const name = packed.slice(pos, (pos += nameLength));
    const key = keyLength === DERIVED_KEY ? headerKey(name) : packed.slice(pos, (pos += keyLength));
    out[i] = { name, key, value: packed.slice(pos, (pos += valueLength)) };
  }
  return out;
}

/** Parses `CSeq: 1 INVITE` (RFC 3261 §20.16: the number is below 2**31). */
export function parseCSeq(value: string): CSeq {
  const v = value.trim();
  // 1*10DIGIT LWS Method (a token)
  let i = 0;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  if (i === 0 || i > 10) throw new SipParseError('bad CSeq');
  const digitsEnd = i;
  while (i < v.length && isWsp(v.charCodeAt(i))) i++;
  if (i === digitsEnd) throw new SipParseError('bad CSeq');
  const method = v.slice(i);
  if (!isToken(method)) throw new SipParseError('bad CSeq');
  const seq = Number(v.slice(0, digitsEnd));
  if (seq >= 2 ** 31) throw new SipParseError('CSeq number too large');
  return { seq, method };
}

/** Parses a bounded non-negative decimal header value. */
export function parseSmallInt(value: string, what: string, max: number): number {
  const v = value.trim();
  if (v.length === 0 || v.length > 10) throw new SipParseError(`bad ${what}`);
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) throw new SipParseError(`bad ${what}`);
  const n = Number(v);
  if (n > max) throw new SipParseError(`${what} too large`);
  return n;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
