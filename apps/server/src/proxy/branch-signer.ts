/**
 * Via branches the proxy can recognise again without state. A forwarded request's branch is
 *
 *   <loop key>.<random, 10 chars><MAC, 16 chars>
 *
 * where the MAC (HMAC-SHA256, cut to 96 bits, base64url) covers the rest of the branch, the
 * Call-ID, the CSeq and where the response is to go next (the upstream Via's transport, address
 * and port). A response that matches no client transaction (a 2xx retransmitted after the INVITE
 * transaction ended, RFC 3261 §16.7 / §17.1.1.2) is forwarded only when its top branch carries
 * such a MAC for those same fields: Handset then provably sent that request, and sends the answer
 * where that request came from. Anything else (a forged response naming Handset in its top Via
 * and a victim in the second) is dropped: Handset is no reflector.
 */
import { createHmac, randomBytes } from 'node:crypto';

const RANDOM_CHARS = 10;
const MAC_CHARS = 16;
const MAC_BYTES = (MAC_CHARS / 4) * 3;

/** The fields a signed branch vouches for. */
export interface BranchFields {
  readonly callId: string;
  readonly cseq: string;
  /** Where the response goes next: `protocol address port` of the upstream Via. */
  readonly upstream: string;
}

/** Signs and checks the proxy's branches. */
export class BranchSigner {
  readonly #key: Buffer;
  #pool = Buffer.alloc(0);
  #poolAt = 0;

  /** `key`: the server secret (a key of this purpose is derived from it). */
  constructor(key: Uint8Array) {
    this.#key = createHmac('sha256', key).update('handset proxy branch v1').digest();
  }

  /** A branch that starts with `prefix` (an RFC 3261 branch: the magic cookie and loop key) and signs `fields`. */
  sign(prefix: string, fields: BranchFields): string {
    const body = `${prefix}.${this.#random()}`;
    return body + this.#mac(body, fields);
  }

  /** True when `branch` was made by sign() with this key for these same fields. */
  verify(branch: string, fields: BranchFields): boolean {
    const dot = branch.lastIndexOf('.');
    if (dot < 0 || branch.length - dot - 1 !== RANDOM_CHARS + MAC_CHARS) return false;
    const body = branch.slice(0, branch.length - MAC_CHARS);
    // base64url compares as text: one byte string has one spelling at this length (96 bits, no padding).
    return this.#mac(body, fields) === branch.slice(branch.length - MAC_CHARS);
  }

  #mac(body: string, f: BranchFields): string {
    return createHmac('sha256', this.#key)
      .update(`${body}\n${f.callId}\n${f.cseq}\n${f.upstream}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('base64url');
  }

  #random(): string {
    const bytes = (RANDOM_CHARS / 4) * 3 + 1; // 8 bytes: 11 chars, cut to 10
    if (this.#poolAt + bytes > this.#pool.length) {
      this.#pool = randomBytes(bytes * 256);
      this.#poolAt = 0;
    }
    const out = this.#pool.toString('base64url', this.#poolAt, this.#poolAt + bytes).slice(0, RANDOM_CHARS);
    this.#poolAt += bytes;
    return out;
  }
}
