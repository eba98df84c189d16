/**
 * Stateless server nonces (RFC 7616 §3.3 and §5.4 "nonce" suggestions, RFC 3261 §22.4):
 *
 *   head  = issued-ms (6 bytes, big-endian) | random (10 bytes)
 *   nonce = base64url( head | HMAC-SHA256(key, head | realm)[0..16] | HMAC-SHA256(key, head | realm | 0 | binding)[0..16] )
 *
 * 48 bytes, so exactly 64 base64url characters with no padding and no spare bits: one byte
 * string has one spelling. A nonce proves that this server issued it for this realm and when,
 * and to whom (the binding: the challenged source address, and the connection on a stream
 * transport); it needs no storage. The first MAC tells a nonce of ours issued to another
 * source ('foreign': a replay from elsewhere, or a client that moved) from a forgery.
 * Replay of one nonce at its source is the NonceCountTracker's job.
 */
import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';
import { ownCopy } from '../own-copy.js';
import { DigestError } from './digest-error.js';

/** Options for {@link NonceIssuer}. */
export interface NonceIssuerOptions {
  /** HMAC key, at least 16 bytes (a string is taken as UTF-8). Keep it secret; never log it. */
  readonly key: string | Uint8Array;
  /** How long a nonce stays valid; after that it is stale (default 300 000 ms). */
  readonly ttlMs?: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** A nonce stamped further in the future than this is refused (clock steps; default 60 000 ms). */
  readonly maxClockSkewMs?: number;
}

/** Verdict on a nonce: ours and fresh, ours but too old, ours but issued to another source, or not ours at all. */
export type NonceStatus = 'valid' | 'stale' | 'foreign' | 'invalid';

/** A nonce verdict with the time the nonce was issued (NaN when invalid). */
export interface NonceCheck {
  readonly status: NonceStatus;
  readonly issuedAt: number;
}

const TIME_BYTES = 6;
const RANDOM_BYTES = 10;
const HEAD_BYTES = TIME_BYTES + RANDOM_BYTES;
/** Each of the two MACs is a SHA-256 HMAC cut to 128 bits (RFC 2104 §5 allows truncation to half). */
const MAC_BYTES = 16;
const NONCE_BYTES = HEAD_BYTES + 2 * MAC_BYTES;
const NONCE_CHARS = (NONCE_BYTES / 3) * 4;
/** SHA-256's block size (RFC 2104 §2 B). */
const BLOCK_BYTES = 64;
/** Realms up to this many UTF-8 bytes are hashed from the preset buffer, longer ones from a new one. */
const INLINE_REALM_BYTES = 765;
const INVALID: NonceCheck = Object.freeze({ status: 'invalid', issuedAt: Number.NaN });
const FOREIGN: NonceCheck = Object.freeze({ status: 'foreign', issuedAt: Number.NaN });

/** How many of the nonces issued last are remembered (see NonceIssuer's #recent). */
const RECENT_NONCES = 16_384;

/** What is remembered of a nonce issued lately. */
interface RecentNonce {
  readonly realm: string;
  readonly binding: string;
  readonly issuedAt: number;
}

/** Default nonce lifetime. */
export const DEFAULT_NONCE_TTL_MS = 300_000;

// base64url alphabet: A-Z a-z 0-9 - _
const isBase64UrlChar = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;

/** Issues and checks HMAC-signed, time-stamped nonces. */
export class NonceIssuer {
  readonly ttlMs: number;
  // HMAC-SHA256 (RFC 2104 §2) as two one-shot hashes over preset buffers: the key XOR ipad, then the
  // message, in #inner; the key XOR opad, then the inner digest, in #outer. About half the CPU of a
  // createHmac object per nonce, which the registrar pays twice per REGISTER (issue, then check).
  readonly #inner = Buffer.alloc(BLOCK_BYTES + HEAD_BYTES + INLINE_REALM_BYTES);
  readonly #outer = Buffer.alloc(BLOCK_BYTES + 32);
  readonly #ipadKey: Buffer;
  readonly #clock: () => number;
  readonly #maxSkewMs: number;
  // Random bytes drawn in bulk: one CSPRNG call per 256 nonces instead of one per nonce.
  readonly #pool = Buffer.allocUnsafe(RANDOM_BYTES * 256);
  #poolOffset = Number.POSITIVE_INFINITY;
  // The nonces issued last, with their realm and issue time. The answer to a challenge comes back
  // within milliseconds, and a nonce found here was issued by this object for that realm as surely as
  // its MAC says so: checking it needs no HMAC (two SHA-256 passes, a twentieth of a registrar's CPU
  // per REGISTER). Only a shortcut: a nonce not found (older, from another node, or pushed out by a
  // flood of challenges) is checked by its MAC as before. #recentOrder says which one to forget next.
  readonly #recent = new Map<string, RecentNonce>();
  readonly #recentOrder: Array<string | undefined> = new Array<string | undefined>(RECENT_NONCES).fill(undefined);
  #recentNext = 0;
  /** The realm of the last nonce remembered, in storage of its own. */
  #lastRealm = '';

  constructor(options: NonceIssuerOptions) {
    const key = typeof options.key === 'string' ? Buffer.from(options.key, 'utf8') : Buffer.from(options.key);
    if (key.length < 16) throw new DigestError('DIGEST_INVALID_OPTION', 'nonce key must be at least 16 bytes');
    const ttlMs = options.ttlMs ?? DEFAULT_NONCE_TTL_MS;
    if (!(ttlMs > 0)) throw new DigestError('DIGEST_INVALID_OPTION', 'nonce ttlMs must be positive');
    this.ttlMs = ttlMs;
    // RFC 2104 §2: a key longer than the hash's block is first hashed; shorter ones are zero-padded.
    const block = Buffer.alloc(BLOCK_BYTES);
    (key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key).copy(block);
    for (let i = 0; i < BLOCK_BYTES; i++) {
      this.#inner[i] = block[i]! ^ 0x36;
      this.#outer[i] = block[i]! ^ 0x5c;
    }
    this.#ipadKey = Buffer.from(this.#inner.subarray(0, BLOCK_BYTES));
    this.#clock = options.clock;
    this.#maxSkewMs = options.maxClockSkewMs ?? 60_000;
  }

  /**
   * A fresh nonce for `realm`, bound to `binding` (who was challenged: e.g. `udp 192.0.2.1`, or
   * the connection's id on a stream transport; empty binds to nobody in particular).
   */
  issue(realm: string, binding = ''): string {
    const buf = Buffer.allocUnsafe(NONCE_BYTES);
    const issuedAt = Math.max(0, Math.floor(this.#clock()));
    buf.writeUIntBE(issuedAt, 0, TIME_BYTES);
    if (this.#poolOffset + RANDOM_BYTES > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#poolOffset = 0;
    }
    this.#pool.copy(buf, TIME_BYTES, this.#poolOffset, this.#poolOffset + RANDOM_BYTES);
    this.#poolOffset += RANDOM_BYTES;
    const head = buf.subarray(0, HEAD_BYTES);
    this.#mac(head, realm).copy(buf, HEAD_BYTES, 0, MAC_BYTES);
    if (binding.length > 0) this.#mac(head, realm, binding).copy(buf, HEAD_BYTES + MAC_BYTES, 0, MAC_BYTES);
    else buf.copy(buf, HEAD_BYTES + MAC_BYTES, HEAD_BYTES, HEAD_BYTES + MAC_BYTES);
    const nonce = buf.toString('base64url');
    this.#remember(nonce, realm, binding, issuedAt);
    return nonce;
  }

  /**
   * 'valid', 'stale' (ours, but older than ttlMs), 'foreign' (ours for this realm, but issued to
   * another binding) or 'invalid' (forged, garbled, other realm, from the future).
   */
  verify(nonce: string, realm: string, binding = ''): NonceStatus {
    return this.check(nonce, realm, binding).status;
  }

  /** Like verify, and also says when the nonce was issued (for nonce-count bookkeeping). */
  check(nonce: string, realm: string, binding = ''): NonceCheck {
    if (typeof nonce !== 'string' || nonce.length !== NONCE_CHARS) return INVALID;
    const recent = this.#recent.get(nonce);
    if (recent !== undefined && recent.realm === realm) {
      return recent.binding === binding ? this.#dated(recent.issuedAt) : FOREIGN;
    }
    for (let i = 0; i < NONCE_CHARS; i++) if (!isBase64UrlChar(nonce.charCodeAt(i))) return INVALID;
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return INVALID;
    const head = buf.subarray(0, HEAD_BYTES);
    const realmMac = buf.subarray(HEAD_BYTES, HEAD_BYTES + MAC_BYTES);
    if (!timingSafeEqual(this.#mac(head, realm).subarray(0, MAC_BYTES), realmMac)) return INVALID;
    const bound = binding.length > 0 ? this.#mac(head, realm, binding).subarray(0, MAC_BYTES) : realmMac;
    if (!timingSafeEqual(bound, buf.subarray(HEAD_BYTES + MAC_BYTES))) return FOREIGN;
    return this.#dated(buf.readUIntBE(0, TIME_BYTES));
  }

  /** The verdict on a nonce of ours issued at `issuedAt`: valid, stale, or invalid when from the future. */
  #dated(issuedAt: number): NonceCheck {
    const now = this.#clock();
    if (issuedAt > now + this.#maxSkewMs) return INVALID;
    return { status: now - issuedAt > this.ttlMs ? 'stale' : 'valid', issuedAt };
  }

  #remember(nonce: string, realm: string, binding: string, issuedAt: number): void {
    const forget = this.#recentOrder[this.#recentNext];
    if (forget !== undefined) this.#recent.delete(forget);
    this.#recentOrder[this.#recentNext] = nonce;
    this.#recentNext = (this.#recentNext + 1) % RECENT_NONCES;
    // The realm is often a part of the request's text: kept for a while, it gets storage of its own
    // (one copy for a run of challenges in one realm).
    if (realm !== this.#lastRealm) this.#lastRealm = ownCopy(realm);
    this.#recent.set(nonce, { realm: this.#lastRealm, binding, issuedAt });
  }

  /** HMAC-SHA256(key, head | UTF-8 realm), or with `binding`: HMAC-SHA256(key, head | UTF-8 realm | 0 | UTF-8 binding). */
  #mac(head: Buffer, realm: string, binding?: string): Buffer {
    let inner = this.#inner;
    let end: number;
    const text = binding === undefined ? realm : `${realm}\u0000${binding}`;
    // A UTF-16 unit is at most 3 UTF-8 bytes, so this text surely fits the preset buffer.
    if (text.length * 3 <= INLINE_REALM_BYTES) {
      head.copy(inner, BLOCK_BYTES);
      end = BLOCK_BYTES + HEAD_BYTES + inner.write(text, BLOCK_BYTES + HEAD_BYTES, 'utf8');
    } else {
      inner = Buffer.concat([this.#ipadKey, head, Buffer.from(text, 'utf8')]);
      end = inner.length;
    }
    hash('sha256', inner.subarray(0, end), 'buffer').copy(this.#outer, BLOCK_BYTES);
    return hash('sha256', this.#outer, 'buffer');
  }
}
