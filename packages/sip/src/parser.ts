/** Parses SIP messages from bytes (RFC 3261 §7, §25), strictly enough for RFC 4475. */
import { isToken } from './grammar.js';
import { canonicalHeaderName, headerKey, SINGLE_HEADERS } from './header-names.js';
import { type Header, parseCSeq, parseSmallInt, type SipMessage, SipRequest, SipResponse } from './message.js';
import { parseNameAddr } from './name-addr.js';
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
  const lfEnd = data.indexOf(LF2, start);
  if (lfEnd >= 0 && (headEnd < 0 || lfEnd < headEnd)) {
    headEnd = lfEnd;
    sepLen = 2;
  }
  if (headEnd < 0) throw new SipParseError('no empty line after the headers');
  const head = data.toString('utf8', start, headEnd);
  const lines = head.split(/\r?\n/);

  const startLine = lines[0]!;
  const headers: Header[] = [];
  // RFC 3261 §7.3.1: a line starting with SP/HT continues the previous header (folding).
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      const prev = headers[headers.length - 1];
      if (prev === undefined) throw new SipParseError('continuation line before any header');
      const more = trimWsp(line);
      prev.value = more.length === 0 ? prev.value : prev.value.length === 0 ? more : `${prev.value} ${more}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError(`bad header line ${i + 1}`);
    const rawName = trimWsp(line.slice(0, colon));
    if (!isToken(rawName)) throw new SipParseError(`bad header name ${JSON.stringify(rawName.slice(0, 40))}`);
    headers.push({ name: canonicalHeaderName(rawName), key: headerKey(rawName), value: trimWsp(line.slice(colon + 1)) });
  }

  const bodyStart = headEnd + sepLen;
  const available = data.length - bodyStart;
  let contentLength: number | undefined;
  const singles = new Map<string, number>();
  for (const h of headers) {
    if (SINGLE_HEADERS.has(h.key)) {
      const n = (singles.get(h.key) ?? 0) + 1;
      singles.set(h.key, n);
      if (n > 1) throw new SipParseError(`more than one ${h.name} header`);
    }
    if (h.key === 'content-length') {
      if (!/^\d{1,10}$/.test(h.value)) throw new SipParseError('bad Content-Length');
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

  const msg = startLine.startsWith('SIP/') ? parseStatusLine(startLine, headers, body) : parseRequestLine(startLine, headers, body);
  validate(msg);
  return msg;
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
  if (parseUri(uri).headers !== undefined) throw new SipParseError('headers in Request-URI');
  return new SipRequest(method, uri, headers, body);
}

function parseStatusLine(line: string, headers: Header[], body: Buffer): SipResponse {
  // RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
  const m = /^(SIP\/[^ ]+) (\d{3})(?: (.*))?$/.exec(line);
  if (m === null) throw new SipParseError('bad status line');
  checkVersion(m[1]!);
  const status = Number(m[2]);
  if (status < 100 || status > 699) throw new SipParseError('status code out of range');
  return new SipResponse(status, m[3] ?? '', headers, body);
}

function checkVersion(version: string): void {
  if (version === 'SIP/2.0') return;
  if (/^SIP\/\d+\.\d+$/i.test(version)) {
    if (version.toUpperCase() === 'SIP/2.0') return;
    throw new SipParseError(`unsupported version ${version}`, { code: 'VERSION_NOT_SUPPORTED', status: 505 });
  }
  throw new SipParseError('bad SIP version');
}

/** RFC 3261 §8.1.1: the headers every request and response must carry, well formed. */
function validate(msg: SipMessage): void {
  if (msg.via.length === 0) throw new SipParseError('missing Via');
  parseNameAddr(msg.getHeader('from') ?? missing('From'));
  parseNameAddr(msg.getHeader('to') ?? missing('To'));
  const callId = msg.getHeader('call-id') ?? missing('Call-ID');
  if (callId.length === 0 || /\s/.test(callId)) throw new SipParseError('bad Call-ID');
  const cseq = parseCSeq(msg.getHeader('cseq') ?? missing('CSeq'));
  const mf = msg.getHeader('max-forwards');
  if (mf !== undefined) parseSmallInt(mf, 'Max-Forwards', 255);
  if (msg instanceof SipRequest) {
    // RFC 3261 §8.2.2? CSeq method must match the request method (RFC 4475 §3.1.2.17 mismatch01).
    if (cseq.method !== msg.method) throw new SipParseError('CSeq method does not match the request method');
  }
  const contacts = msg.contacts;
  if (contacts === '*' && !(msg instanceof SipRequest && msg.method === 'REGISTER')) throw new SipParseError('Contact * outside REGISTER');
}

function missing(name: string): never {
  throw new SipParseError(`missing ${name}`);
}

/** Trims SP and HTAB only (RFC 3261 LWS); other Unicode spaces such as U+FEFF belong to the value. */
function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
