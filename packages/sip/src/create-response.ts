/** Building responses and identifiers (RFC 3261 §8.2.6, §8.1.1.7, §19.3). */
import { randomBytes } from 'node:crypto';
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

/** A new branch id with the RFC 3261 magic cookie. */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomBytes(9).toString('base64url');
}

/** A new From/To tag (RFC 3261 §19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomBytes(6).toString('base64url');
}

/** A new Call-ID. */
export function newCallId(): string {
  return randomBytes(12).toString('base64url');
}
