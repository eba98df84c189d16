import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { ProvisioningError } from './provisioning-error.js';

const VERSION = 1;
const HEADER_BYTES = 9; // version (1) | epoch (4) | period s (4)
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FIXED_PLAIN = 16 + 4 + 4; // code id | issued at | expires at
/** Longest extension a code carries (the directory's limit is lower). */
const MAX_EXT_BYTES = 64;
/** Longest token text accepted before any work is done on it. */
export const MAX_TOKEN_LENGTH = Math.ceil(
  ((HEADER_BYTES + IV_BYTES + FIXED_PLAIN + MAX_EXT_BYTES + TAG_BYTES) * 4) / 3,
);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;
/** Derived keys kept in memory; beyond this the cache starts over (keys are cheap to derive). */
const KEY_CACHE_LIMIT = 4096;

/** What a code says once opened. */
export interface ActivationClaims {
  /** Random id of this code (a device records the code it was activated with). */
  codeId: string;
  ext: string;
  /** Unix seconds. */
  issuedAt: number;
  expiresAt: number;
}

/** A newly issued code. */
export interface IssuedCode extends ActivationClaims {
  /** The opaque activation token: URL-safe base64, never a `:`. */
  token: string;
}

/**
 * Activation codes: AES-256-GCM over (code id, issue and expiry time, extension), with the domain
 * id and the key epoch as authenticated data, written as unpadded base64url so the token fits a
 * URL and the `:`-separated QR text. Keys are derived from the server key by HKDF per domain and
 * per rotation period (epoch = issue time / key_rotation): a code opens while its epoch is the
 * current or the previous one, so rotation needs no stored key and a code of another domain
 * fails authentication like a tampered one. The period travels (authenticated) in the token, so
 * changing key_rotation does not break codes already handed out.
 */
export class ActivationCodec {
  readonly #root: Buffer;
  readonly #lookupKey: Buffer;
  readonly #keys = new Map<string, Buffer>();

  constructor(serverKey: Uint8Array) {
    if (serverKey.length !== 32) throw new Error('the server key must be 32 bytes');
    this.#root = Buffer.from(serverKey);
    this.#lookupKey = Buffer.from(hkdfSync('sha256', this.#root, 'handset/activation', 'lookup', 32));
  }

  /** Issues a code for `ext` in `domainId`, valid `lifetimeS` from `nowS`, under the key of the current period. */
  issue(input: { domainId: string; ext: string; nowS: number; lifetimeS: number; periodS: number }): IssuedCode {
    const ext = Buffer.from(input.ext, 'utf8');
    if (ext.length === 0 || ext.length > MAX_EXT_BYTES)
      throw new ProvisioningError('INVALID_INPUT', 'extension too long for a code');
    if (input.lifetimeS > input.periodS)
      throw new ProvisioningError('INVALID_INPUT', 'a code may not outlive its key period');
    const issuedAt = Math.floor(input.nowS);
    const expiresAt = issuedAt + Math.floor(input.lifetimeS);
    const epoch = Math.floor(issuedAt / input.periodS);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(VERSION, 0);
    header.writeUInt32BE(epoch, 1);
    header.writeUInt32BE(input.periodS, 5);
    const codeId = randomUUID();
    const plain = Buffer.alloc(FIXED_PLAIN + ext.length);
    Buffer.from(codeId.replaceAll('-', ''), 'hex').copy(plain, 0);
    plain.writeUInt32BE(issuedAt, 16);
    plain.writeUInt32BE(expiresAt, 20);
    ext.copy(plain, FIXED_PLAIN);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(input.domainId, input.periodS, epoch), iv);
    cipher.setAAD(aad(header, input.domainId));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const token = Buffer.concat([header, iv, body, cipher.getAuthTag()]).toString('base64url');
    return { token, codeId, ext: input.ext, issuedAt, expiresAt };
  }

  /**
   * Opens a code presented for `domainId` at `nowS`. Throws CODE_INVALID (malformed, truncated,
   * tampered, other domain), KEY_RETIRED (older than the previous key) or CODE_EXPIRED.
   */
  open(token: string, domainId: string, nowS: number): ActivationClaims {
    const claims = this.#decrypt(token, domainId, nowS);
    if (claims.expiresAt <= nowS) throw new ProvisioningError('CODE_EXPIRED', 'this activation code has expired');
    return claims;
  }

  /**
   * A keyed hash of a token, to find the device activated with it without keeping the token
   * itself (a stolen database yields no working code).
   */
  lookupHash(token: string): string {
    return createHmac('sha256', this.#lookupKey).update(token, 'utf8').digest('base64url');
  }

  #decrypt(token: string, domainId: string, nowS: number): ActivationClaims {
    const invalid = () => new ProvisioningError('CODE_INVALID', 'this is not a valid activation code');
    if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) throw invalid();
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < HEADER_BYTES + IV_BYTES + FIXED_PLAIN + 1 + TAG_BYTES || raw.readUInt8(0) !== VERSION)
      throw invalid();
    const header = raw.subarray(0, HEADER_BYTES);
    const epoch = header.readUInt32BE(1);
    const periodS = header.readUInt32BE(5);
    if (periodS === 0) throw invalid();
    // Only the current and the previous key open codes: checked before decrypting, but the header
    // is authenticated below, so a forged epoch still fails.
    const current = Math.floor(nowS / periodS);
    const retired = epoch + 1 < current;
    if (epoch > current) throw invalid();
    const iv = raw.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(HEADER_BYTES + IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key(domainId, periodS, epoch), iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad(header, domainId));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw invalid();
    }
    if (retired) throw new ProvisioningError('KEY_RETIRED', 'this activation code was sealed with a retired key');
    const hex = plain.subarray(0, 16).toString('hex');
    return {
      codeId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      issuedAt: plain.readUInt32BE(16),
      expiresAt: plain.readUInt32BE(20),
      ext: plain.subarray(FIXED_PLAIN).toString('utf8'),
    };
  }

  #key(domainId: string, periodS: number, epoch: number): Buffer {
    const id = `${domainId}|${periodS}|${epoch}`;
    let key = this.#keys.get(id);
    if (!key) {
      if (this.#keys.size >= KEY_CACHE_LIMIT) this.#keys.clear();
      key = Buffer.from(hkdfSync('sha256', this.#root, 'handset/activation', `v${VERSION}|${id}`, 32));
      this.#keys.set(id, key);
    }
    return key;
  }
}

function aad(header: Buffer, domainId: string): Buffer {
  return Buffer.concat([header, Buffer.from(domainId, 'utf8')]);
}
