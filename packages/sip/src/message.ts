/** The SIP message model (RFC 3261 §7): start line, ordered headers, body bytes. */
import { splitList } from './grammar.js';
import { canonicalHeaderName, headerKey, LIST_HEADERS } from './header-names.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-error.js';
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

/** What both requests and responses have. Parsed header views are cached until that header changes. */
export abstract class SipMessage {
  /** Headers in wire order. Mutate through the methods so caches stay valid. */
  readonly headers: Header[];
  body: Buffer;
  private cache: Map<string, unknown> | undefined;

  constructor(headers: Header[] = [], body: Buffer = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  abstract isRequest(): this is SipRequest;

  /** First value of a header (whole line; list headers are not split), or undefined. */
  getHeader(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return h.value;
    return undefined;
  }

  /** All values of a header; list headers (Via, Contact, Route, ...) are split on top-level commas. */
  getHeaders(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    const list = LIST_HEADERS.has(key);
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (list) for (const v of splitList(h.value)) out.push(v);
      else out.push(h.value);
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
    this.headers.push({ name: canonicalHeaderName(name), key: headerKey(name), value });
    this.invalidate(headerKey(name));
    return this;
  }

  /**
   * Adds a header line before any other line of the same name (a new top Via or Record-Route),
   * or at the top of the header section when there is none.
   */
  prependHeader(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    const h = { name: canonicalHeaderName(name), key, value };
    this.headers.splice(Math.max(idx, 0), 0, h);
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
    else h.value = values.join(', ');
    this.invalidate(key);
    return first;
  }

  /** Via elements, top (most recent hop) first. */
  get via(): Via[] {
    return this.cached('via', () => this.getHeaders('via').map(parseVia));
  }

  /** The top Via. Every valid message has one (checked by the parser). */
  get topVia(): Via {
    const v = this.via[0];
    if (v === undefined) throw new SipParseError('missing Via');
    return v;
  }

  get from(): NameAddr {
    return this.cached('from', () => parseNameAddr(this.required('from')));
  }

  get to(): NameAddr {
    return this.cached('to', () => parseNameAddr(this.required('to')));
  }

  get callId(): string {
    return this.required('call-id');
  }

  get cseq(): CSeq {
    return this.cached('cseq', () => parseCSeq(this.required('cseq')));
  }

  /** Max-Forwards, or undefined when absent. */
  get maxForwards(): number | undefined {
    const v = this.getHeader('max-forwards');
    return v === undefined ? undefined : parseSmallInt(v, 'Max-Forwards', 255);
  }

  /** Contact values; `'*'` for the wildcard of a REGISTER (RFC 3261 §10.2.2). */
  get contacts(): NameAddr[] | '*' {
    return this.cached('contact', () => {
      const values = this.getHeaders('contact');
      if (values.length === 1 && values[0] === '*') return '*';
      return values.map(parseNameAddr);
    });
  }

  /** Route values, top first. */
  get routes(): NameAddr[] {
    return this.cached('route', () => this.getHeaders('route').map(parseNameAddr));
  }

  /** Record-Route values, top first. */
  get recordRoutes(): NameAddr[] {
    return this.cached('record-route', () => this.getHeaders('record-route').map(parseNameAddr));
  }

  private required(key: string): string {
    const v = this.getHeader(key);
    if (v === undefined) throw new SipParseError(`missing ${canonicalHeaderName(key)}`);
    return v;
  }

  private cached<T>(key: string, build: () => T): T {
    this.cache ??= new Map();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = build();
    this.cache.set(key, value);
    return value;
  }

  private invalidate(key: string): void {
    this.cache?.delete(key);
  }
}

/** A SIP request. `uri` is the Request-URI as written. */
export class SipRequest extends SipMessage {
  method: string;
  uri: string;
  constructor(method: string, uri: string, headers: Header[] = [], body: Buffer = EMPTY) {
    super(headers, body);
    this.method = method;
    this.uri = uri;
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

/** Parses `CSeq: 1 INVITE` (RFC 3261 §20.16: the number is below 2**31). */
export function parseCSeq(value: string): CSeq {
  const m = /^(\d{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (m === null) throw new SipParseError('bad CSeq');
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) throw new SipParseError('CSeq number too large');
  return { seq, method: m[2]! };
}

/** Parses a bounded non-negative decimal header value. */
export function parseSmallInt(value: string, what: string, max: number): number {
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v)) throw new SipParseError(`bad ${what}`);
  const n = Number(v);
  if (n > max) throw new SipParseError(`${what} too large`);
  return n;
}
