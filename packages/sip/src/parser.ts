/** Parses SIP messages from bytes (RFC 3261 §7, §25), strictly enough for RFC 4475. */
import { isToken } from './grammar.js';
import { headerNameInfo } from './header-names.js';
import { type Header, parseSmallInt, type SipMessage, SipRequest, SipResponse } from './message.js';
import { SipParseError } from './sip-error.js';
import { parseUri } from './sip-uri.js';

/** Options for parseMessage. */
export interface ParseOptions {
  /**
   * True when the bytes came framed from a stream transport (exactly one message);
   * false for a datagram, where the body is the rest of the packet unless
   * Content-Length says less (RFC 3261 §18.3).
   */
  readonly stream?: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const LF2 = Buffer.from('\n\n');

/**
 * Parses one SIP message. Throws SipParseError (with the status to answer) on any
 * malformation; never throws anything else.
 */
export function parseMessage(data: Buffer, options: ParseOptions = {}): SipMessage {
  try {
    return parse(data, options.stream === true);
  } catch (err) {
    if (err instanceof SipParseError) throw err;
    throw new SipParseError('malformed message', { cause: err });
  }
}

function parse(data: Buffer, stream: boolean): SipMessage {
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  let headEnd = data.indexOf(CRLF2, start);
  let sepLen = 4;
  let head = headEnd < 0 ? '' : data.toString('utf8', start, headEnd);
  // A bare-LF blank line ends the head if it comes first; inside the decoded head it shows as "\n\n".
  if (headEnd < 0 || head.includes('\n\n')) {
    const lfEnd = data.indexOf(LF2, start);
    if (lfEnd >= 0 && (headEnd < 0 || lfEnd < headEnd)) {
      headEnd = lfEnd;
      sepLen = 2;
      head = data.toString('utf8', start, headEnd);
    }
  }
  if (headEnd < 0) throw new SipParseError('no empty line after the headers');

  // Lines end in CRLF or a bare LF; the first is the start line.
  let nl = head.indexOf('\n');
  // The start line is a string of its own: the Request-URI sliced from it must not keep the head alive.
  let startLine = head;
  if (nl >= 0) {
    const lf = data.indexOf(10, start);
    startLine = data.toString('utf8', start, lf > start && data[lf - 1] === 13 ? lf - 1 : lf);
  }
  const headers: Header[] = [];
  const seen: SeenHeaders = { bits: 0, duplicateAt: -1 };
  let lineNo = 1;
  let pos = nl < 0 ? head.length : nl + 1;
  while (pos < head.length || (nl >= 0 && pos === head.length)) {
    nl = head.indexOf('\n', pos);
    const lineEnd = nl < 0 ? head.length : nl;
    const end = nl >= 0 && lineEnd > pos && head.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    lineNo++;
    parseHeaderLine(head, pos, end, lineNo, headers, seen);
    if (nl < 0) break;
    pos = nl + 1;
  }

  const bodyStart = headEnd + sepLen;
  const available = data.length - bodyStart;
  let contentLength: number | undefined;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (i === seen.duplicateAt) throw new SipParseError(`more than one ${h.name} header`);
    if (h.key === 'content-length') {
      if (!isDecimal(h.value, 10)) throw new SipParseError('bad Content-Length');
      contentLength = Number(h.value);
    }
  }
  let body: Buffer;
  if (contentLength === undefined) {
    if (stream && available > 0) throw new SipParseError('Content-Length is required on stream transports');
    body = data.subarray(bodyStart);
  } else {
    // RFC 3261 §18.3: a datagram shorter than Content-Length is a 400; extra bytes are discarded.
    if (contentLength > available) throw new SipParseError('Content-Length larger than the message body');
    body = data.subarray(bodyStart, bodyStart + contentLength);
  }

  const msg = startLine.startsWith('SIP/')
    ? parseStatusLine(startLine, headers, body)
    : parseRequestLine(startLine, headers, body);
  validate(msg);
  return msg;
}

/** Headers that may appear once: the bits seen so far, and the index of the first second occurrence (-1: none). */
interface SeenHeaders {
  bits: number;
  duplicateAt: number;
}

/** Parses one header line `head[a, b)` into `headers`, or appends a continuation line to the previous header. */
function parseHeaderLine(
  head: string,
  a: number,
  b: number,
  lineNo: number,
  headers: Header[],
  seen: SeenHeaders,
): void {
  const c = head.charCodeAt(a);
  // RFC 3261 §7.3.1: a line starting with SP/HT continues the previous header (folding).
  if (a < b && (c === 32 || c === 9)) {
    const prev = headers[headers.length - 1];
    if (prev === undefined) throw new SipParseError('continuation line before any header');
    const more = trimmed(head, a, b);
    prev.value = more.length === 0 ? prev.value : prev.value.length === 0 ? more : `${prev.value} ${more}`;
    return;
  }
  const colon = head.indexOf(':', a);
  if (colon < 0 || colon >= b || colon === a) throw new SipParseError(`bad header line ${lineNo}`);
  const rawName = trimmed(head, a, colon);
  if (!isToken(rawName)) throw new SipParseError(`bad header name ${JSON.stringify(rawName.slice(0, 40))}`);
  const info = headerNameInfo(rawName);
  if (info.singleBit !== 0) {
    if ((seen.bits & info.singleBit) !== 0 && seen.duplicateAt < 0) seen.duplicateAt = headers.length;
    seen.bits |= info.singleBit;
  }
  headers.push({ name: info.name, key: info.key, value: trimmed(head, colon + 1, b) });
}

function parseRequestLine(line: string, headers: Header[], body: Buffer): SipRequest {
  // RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF (exactly one SP each).
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 === sp1) throw new SipParseError('bad request line');
  const method = line.slice(0, sp1);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) throw new SipParseError('bad method');
  checkVersion(version);
  if (uri.length === 0 || /[\s<>"]/.test(uri)) throw new SipParseError('bad Request-URI');
  // RFC 3261 §19.1.1: header parameters are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
  const parsed = parseUri(uri);
  if (parsed.headers !== undefined) throw new SipParseError('headers in Request-URI');
  return new SipRequest(method, uri, headers, body, parsed);
}

function parseStatusLine(line: string, headers: Header[], body: Buffer): SipResponse {
  // RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
  const sp = line.indexOf(' ');
  // SIP-Version (at least one character after "SIP/"), SP, exactly three digits, then the end or SP.
  if (sp <= 4 || line.length < sp + 4) throw new SipParseError('bad status line');
  let status = 0;
  for (let i = sp + 1; i < sp + 4; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new SipParseError('bad status line');
    status = status * 10 + d;
  }
  if (line.length > sp + 4 && line.charCodeAt(sp + 4) !== 32) throw new SipParseError('bad status line');
  const reason = line.length > sp + 5 ? line.slice(sp + 5) : '';
  // The reason phrase may hold any character but line terminators (as `.` in a regular expression).
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if (c === 13 || c === 0x2028 || c === 0x2029) throw new SipParseError('bad status line');
  }
  checkVersion(line.slice(0, sp));
  if (status < 100 || status > 699) throw new SipParseError('status code out of range');
  return new SipResponse(status, reason, headers, body);
}

function checkVersion(version: string): void {
  if (version === 'SIP/2.0') return;
  if (/^SIP\/\d+\.\d+$/i.test(version)) {
    if (version.toUpperCase() === 'SIP/2.0') return;
    throw new SipParseError(`unsupported version ${version}`, { code: 'VERSION_NOT_SUPPORTED', status: 505 });
  }
  throw new SipParseError('bad SIP version');
}

/**
 * RFC 3261 §8.1.1: the headers every request and response must carry, present and (those this
 * stack reads of that kind of message) well formed. The parsed views built here are the ones the
 * message keeps, so nothing is parsed twice.
 */
function validate(msg: SipMessage): void {
  const request = msg instanceof SipRequest;
  // A request's Via list is read whole (loop detection, §16.3 step 4), so all of it must parse. Of a
  // response only the top Via is ever read (the transaction it matches, §17.1.3, §18.1.2); the rest is
  // the next hops' and goes upstream as it came (§16.7 step 3), so it is parsed only if someone asks.
  if (request ? msg.via.length === 0 : msg.firstVia() === undefined) throw new SipParseError('missing Via');
  if (!msg.hasHeader('from')) missing('From');
  // A response's From and Contact, like its lower Vias, are for the UAC; a proxy passes them on
  // unread (§16.7), so they are parsed when read. A request's are checked here.
  if (request) void msg.from;
  if (!msg.hasHeader('to')) missing('To');
  void msg.to;
  const callId = msg.getHeader('call-id') ?? missing('Call-ID');
  if (callId.length === 0 || /\s/.test(callId)) throw new SipParseError('bad Call-ID');
  if (!msg.hasHeader('cseq')) missing('CSeq');
  const cseq = msg.cseq;
  const mf = msg.getHeader('max-forwards');
  if (mf !== undefined) parseSmallInt(mf, 'Max-Forwards', 255);
  if (!request) return;
  // RFC 3261 §8.2.2? CSeq method must match the request method (RFC 4475 §3.1.2.17 mismatch01).
  if (cseq.method !== msg.method) throw new SipParseError('CSeq method does not match the request method');
  if (msg.contacts === '*' && msg.method !== 'REGISTER') throw new SipParseError('Contact * outside REGISTER');
}

function missing(name: string): never {
  throw new SipParseError(`missing ${name}`);
}

/** `s[a, b)` without leading and trailing SP/HTAB (RFC 3261 LWS); other Unicode spaces such as U+FEFF belong to the value. */
function trimmed(s: string, a: number, b: number): string {
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}

/** True for 1 to `max` ASCII digits. */
function isDecimal(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
