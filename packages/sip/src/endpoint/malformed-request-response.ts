import { newTag } from '../create-response.js';
import { splitList } from '../grammar.js';
import { headerKey } from '../header-names.js';
import { type Header, SipResponse } from '../message.js';
import { reasonPhrase } from '../reason-phrases.js';
import type { SipParseError } from '../sip-error.js';
import type { Endpoint } from '../transport.js';
import { formatVia, parseVia, type Via } from '../via.js';
import { stampVia } from './stamp-received.js';

/** A stateless answer to a request that could not be parsed, and the Via to route it by. */
export interface MalformedRequestResponse {
  readonly response: SipResponse;
  /**
   * The top Via as stamped with received/rport: where the response goes (§18.2.2). Undefined
   * when it cannot be read (RFC 4475 badinv01): the response then goes to the request's source.
   */
  readonly via: Via | undefined;
}

const HEAD_LIMIT = 16384;
// Method SP anything SP SIP-Version: enough to tell a (broken) request from a response or noise.
const REQUEST_LINE = /^[A-Za-z0-9\-.!%*_+`'~]+ .*SIP\/\S+\s*$/;
const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

function clean(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, max);
}

/**
 * Builds the response to a request the parser rejected (RFC 3261 §8.2, §21.4.1: 400 with
 * the problem in the reason phrase; 505 / 513 as the error says), reading the start line
 * and the Via, From, To, Call-ID and CSeq lines leniently. Undefined when the bytes do
 * not look like a request, the request is an ACK (never answered), or it has no Via at all
 * (nothing a client could match the response with): such input is dropped. A Via that cannot
 * be read is copied as it came (the client recognises its own text) and `via` is undefined.
 */
export function malformedRequestResponse(
  data: Buffer,
  error: SipParseError,
  source: Endpoint,
): MalformedRequestResponse | undefined {
  let end = data.indexOf('\r\n\r\n');
  if (end < 0) end = data.indexOf('\n\n');
  if (end < 0) end = data.length;
  const lines = data.toString('utf8', 0, Math.min(end, HEAD_LIMIT)).split(/\r?\n/);
  let i = 0;
  while (i < lines.length && lines[i]!.length === 0) i++;
  const startLine = lines[i++];
  if (startLine === undefined || startLine.startsWith('SIP/') || !REQUEST_LINE.test(startLine)) return undefined;
  if (startLine.startsWith('ACK ')) return undefined;

  const found: Header[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      const prev = found[found.length - 1];
      // RFC 3261 §7.3.1 folding: the line continues the previous header.
      if (prev !== undefined) prev.value = `${prev.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = headerKey(line.slice(0, colon).trim());
    if (!COPIED.has(key)) {
      found.push({ name: '', key: '', value: '' }); // a placeholder so folded lines do not join the wrong header
      continue;
    }
    found.push({ name: key, key, value: line.slice(colon + 1).trim() });
  }

  const headers: Header[] = [];
  let via: Via | undefined;
  let first = true;
  for (const h of found) {
    if (h.key !== 'via') continue;
    let values: string[];
    try {
      values = splitList(h.value);
    } catch {
      values = [h.value];
    }
    for (const value of values) {
      if (first) {
        first = false;
        try {
          const parsed = parseVia(value);
          via = stampVia(parsed, source) ?? parsed;
        } catch {
          // Unreadable (RFC 4475 §3.1.2.1 badinv01): the whole header goes back as it came.
          headers.push({ name: 'Via', key: 'via', value: clean(h.value, 1024) });
          break;
        }
        headers.push({ name: 'Via', key: 'via', value: formatVia(via) });
      } else {
        headers.push({ name: 'Via', key: 'via', value });
      }
    }
  }
  if (first) return undefined;

  const names: Record<string, string> = { from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq' };
  for (const key of ['from', 'to', 'call-id', 'cseq']) {
    const h = found.find((x) => x.key === key);
    if (h === undefined) continue;
    let value = h.value;
    // RFC 3261 §8.2.6.2: a response other than 100 carries a To tag.
    if (key === 'to' && !/;\s*tag\s*=/i.test(value)) value = `${value};tag=${newTag()}`;
    headers.push({ name: names[key]!, key, value });
  }
  const status = error.status;
  const reason = `${reasonPhrase(status)} (${clean(error.message, 120)})`;
  return { response: new SipResponse(status, reason, headers), via };
}
