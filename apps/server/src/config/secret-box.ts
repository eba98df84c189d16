import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** Codes a {@link SecretBoxError} can carry. */
export type SecretBoxErrorCode = 'BAD_KEY' | 'MALFORMED' | 'UNSUPPORTED_VERSION' | 'AUTH_FAILED';

/** A sealed value that cannot be opened: wrong key, corrupted or not produced by {@link SecretBox}. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for short secrets at rest (the SIP password). A sealed value reads
 * `v1.<base64url(iv | ciphertext | tag)>` with a random 96-bit IV, so equal plaintexts seal
 * differently and the version prefix leaves room for key rotation.
 */
export class SecretBox {
  readonly #key: Buffer;
  /** A non-secret fingerprint of the key (HMAC of a fixed label), to detect a changed key. */
  readonly keyId: string;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new SecretBoxError('BAD_KEY', 'the secret key must be 32 bytes');
    this.#key = Buffer.from(key);
    this.keyId = createHmac('sha256', this.#key).update('handset/secret-box/key-id').digest('hex').slice(0, 32);
  }

  /** Encrypts `plaintext` (UTF-8) into a printable sealed string. */
  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Decrypts a value from {@link seal}; throws {@link SecretBoxError} if it was altered or the key differs. */
  open(sealed: string): string {
    const dot = sealed.indexOf('.');
    if (dot < 0) throw new SecretBoxError('MALFORMED', 'sealed value has no version prefix');
    const version = sealed.slice(0, dot);
    if (version !== VERSION)
      throw new SecretBoxError('UNSUPPORTED_VERSION', `unsupported sealed value version "${version}"`);
    const payload = sealed.slice(dot + 1);
    if (!/^[A-Za-z0-9_-]*$/.test(payload)) throw new SecretBoxError('MALFORMED', 'sealed value is not base64url');
    const raw = Buffer.from(payload, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('MALFORMED', 'sealed value is too short');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('AUTH_FAILED', 'sealed value failed authentication (wrong key or tampered)');
    }
  }
}
