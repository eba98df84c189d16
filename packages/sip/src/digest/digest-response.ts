/**
 * The digest computation of RFC 7616 §3.4.1-3.4.3 (RFC 2617 §3.2.2 for MD5, RFC 8760 §2
 * for SIP), including the RFC 2069 form without qop that RFC 3261 §22.4 still requires servers
 * to accept. All strings are hashed as UTF-8; digests are lowercase hex.
 */
import { hash } from 'node:crypto';
import { ownCopy } from '../own-copy.js';
import type { DigestAlgorithm } from './digest-algorithm.js';

/** Quality of protection values (RFC 7616 §3.3). */
export type DigestQop = 'auth' | 'auth-int';

/** Inputs to one response computation. */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** H(username ":" realm ":" password), lowercase hex: see {@link computeHa1}. For -sess it is rehashed here. */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  /** The `uri` parameter exactly as sent (RFC 7616 §3.4.6: the request-target; in SIP the Request-URI). */
  readonly uri: string;
  /** Absent for the RFC 2069 form. */
  readonly qop?: DigestQop | undefined;
  /** Eight hex digits, as sent (`00000001`). Required with qop. */
  readonly nc?: string | undefined;
  /** Required with qop and with a -sess algorithm. */
  readonly cnonce?: string | undefined;
  /** The message body, for qop=auth-int (RFC 7616 §3.4.3; RFC 8760 §2.5: the SIP message body). */
  readonly body?: string | Uint8Array | undefined;
}

/** H(unq(username) ":" unq(realm) ":" passwd) (RFC 7616 §3.4.2), the value a server may store instead of the password. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm.hash, `${username}:${realm}:${password}`, 'hex');
}

/** The request-digest (the `response` parameter) as lowercase hex. */
export function computeDigestResponse(input: DigestResponseInput): string {
  return hash(input.algorithm.hash, responseMaterial(input), 'hex');
}

/** The request-digest as raw bytes, for constant-time comparison. */
export function computeDigestResponseBytes(input: DigestResponseInput): Buffer {
  return hash(input.algorithm.hash, responseMaterial(input), 'buffer');
}

function responseMaterial(input: DigestResponseInput): string {
  const { algorithm, nonce, qop, nc, cnonce } = input;
  const h = algorithm.hash;
  // RFC 7616 §3.4.2: for -sess, HA1 = H(H(user:realm:pass) ":" nonce ":" cnonce).
  const ha1 = algorithm.session ? hash(h, `${input.ha1}:${nonce}:${cnonce ?? ''}`, 'hex') : input.ha1;
  // RFC 7616 §3.4.3: A2 = Method ":" uri [ ":" H(entity-body) ] for auth-int.
  const ha2 =
    qop === 'auth-int'
      ? hash(h, `${input.method}:${input.uri}:${hash(h, input.body ?? '', 'hex')}`, 'hex')
      : plainHa2(h, input.method, input.uri);
  // RFC 7616 §3.4.1 with qop; RFC 2069 §2.1.2 (RFC 2617 §3.2.2.1) without.
  return qop === undefined ? `${ha1}:${nonce}:${ha2}` : `${ha1}:${nonce}:${nc ?? ''}:${cnonce ?? ''}:${qop}:${ha2}`;
}

/** The last H(Method ":" uri) computed, by uri (see plainHa2). */
interface Ha2Entry {
  readonly hash: string;
  readonly method: string;
  readonly ha2: string;
}
const ha2ByUri = new Map<string, Ha2Entry>();
/** URIs whose HA2 is kept; the map restarts when full. */
const MAX_HA2_ENTRIES = 4096;

/**
 * RFC 7616 §3.4.3 A2 = Method ":" uri hashed, for qop=auth and the RFC 2069 form. It depends on nothing
 * secret and nothing per request but these two, and a registrar sees the same few over and over (every
 * REGISTER of a domain has uri `sip:<domain>`): one hash saved of the two each verification costs.
 */
function plainHa2(h: string, method: string, uri: string): string {
  const hit = ha2ByUri.get(uri);
  if (hit !== undefined && hit.method === method && hit.hash === h) return hit.ha2;
  const ha2 = hash(h, `${method}:${uri}`, 'hex');
  if (ha2ByUri.size >= MAX_HA2_ENTRIES) ha2ByUri.clear();
  // The uri is usually a part of the request's text: kept, it gets storage of its own.
  ha2ByUri.set(ownCopy(uri), { hash: h, method, ha2 });
  return ha2;
}
