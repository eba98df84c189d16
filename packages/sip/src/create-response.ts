/** Building responses and identifiers (RFC 3261 §8.2.6, §8.1.1.7, §19.3). */
import { randomUUID } from 'node:crypto';
import { headerNameInfo } from './header-names.js';
import { type Header, type SipRequest, SipResponse } from './message.js';
import { reasonPhrase } from './reason-phrases.js';
import { BRANCH_MAGIC_COOKIE } from './via.js';

/** Options for createResponse. */
export interface CreateResponseOptions {
  reason?: string;
  /** To-tag to add when the request's To has none (required for non-100 responses, RFC 3261 §8.2.6.2). */
  toTag?: string;
  /** Extra headers appended after the copied ones. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  contentType?: string;
}

/**
 * Builds a response to a request: Via (all, in order), From, To, Call-ID and CSeq copied
 * (RFC 3261 §8.2.6.2), a To-tag added when missing and the status is above 100, and
 * Timestamp echoed on 100 (§8.2.6.1).
 */
export function createResponse(req: SipRequest, status: number, options: CreateResponseOptions = {}): SipResponse {
  const headers: Header[] = [];
  // Header objects are shared with the request, not copied: SipMessage never edits one in place.
  for (const h of req.headers) {
    const key = h.key;
    if (key === 'via' || key === 'from' || key === 'call-id' || key === 'cseq') headers.push(h);
    else if (key === 'to') {
      if (status > 100 && options.toTag !== undefined && !req.to.params.has('tag')) {
        headers.push({ name: h.name, key, value: `${h.value};tag=${options.toTag}` });
      } else headers.push(h);
    } else if (key === 'timestamp' && status === 100) headers.push(h);
  }
  if (options.headers) {
    for (const [n, v] of options.headers) {
      const info = headerNameInfo(n);
      headers.push({ name: info.name, key: info.key, value: v });
    }
  }
  const res = new SipResponse(status, options.reason ?? reasonPhrase(status), headers, options.body);
  if (options.contentType !== undefined) res.setHeader('Content-Type', options.contentType);
  return res;
}

/**
 * Random hex digits from a v4 UUID: up to 30 (120 bits), skipping its version and variant digits.
 * randomUUID draws its entropy from the CSPRNG in bulk, so this costs a small fraction of a
 * randomBytes call per identifier.
 */
function randomHex(digits: number): string {
  const u = randomUUID(); // xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx
  const hex = u.slice(0, 8) + u.slice(9, 13) + u.slice(15, 18) + u.slice(20, 23) + u.slice(24);
  return hex.slice(0, digits);
}

/** A new branch id with the RFC 3261 magic cookie (72 random bits). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomHex(18);
}

/** A new From/To tag (RFC 3261 §19.3: at least 32 bits of randomness; 48 here). */
export function newTag(): string {
  return randomHex(12);
}

/** A new Call-ID (96 random bits). */
export function newCallId(): string {
  return randomHex(24);
}
