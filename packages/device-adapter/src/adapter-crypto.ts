/**
 * Secrets inside adapter frames: AES-256-GCM under a key derived per value with HKDF-SHA256
 * (RFC 5869) from a shared secret (the adapter's API token, the device password, or the
 * provisioning code) and a fresh 16-byte seed. The wire form is hex(iv(12) || ciphertext || tag(16)).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** HKDF `info` of every adapter secret. */
export const ADAPTER_KDF_INFO = 'handset/adapter/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEED_BYTES = 16;

/** An encrypted value and the seed it needs. */
export interface SealedSecret {
  /** Hex of 16 random bytes (the HKDF salt). */
  seed: string;
  /** Hex of iv || ciphertext || tag. */
  value: string;
}

/** Thrown when a secret cannot be decrypted (wrong secret, wrong seed, altered value). */
export class SecretDecryptError extends Error {
  readonly code = 'SECRET_UNREADABLE';
}

function keyOf(secret: string, seed: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), seed, ADAPTER_KDF_INFO, 32));
}

/** Encrypts `plaintext` under `secret` with a new seed and IV. */
export function encryptSecret(secret: string, plaintext: string): SealedSecret {
  const seed = randomBytes(SEED_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret, seed), iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { seed: seed.toString('hex'), value: Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('hex') };
}

/** Decrypts a value from a frame; throws {@link SecretDecryptError} when it does not open. */
export function decryptSecret(secret: string, seed: string, value: string): string {
  if (!/^([0-9a-f]{2})+$/i.test(seed) || !/^([0-9a-f]{2})+$/i.test(value))
    throw new SecretDecryptError('seed and value must be hex');
  const raw = Buffer.from(value, 'hex');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptError('the value is too short');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(secret, Buffer.from(seed, 'hex')), raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch (err) {
    throw new SecretDecryptError('the value does not open with this secret and seed', { cause: err });
  }
}

/** The `auth` of a reconnecting Identify: hex(HMAC-SHA256(key = password, data = nonce as sent)). */
export function identifyAuth(password: string, nonce: string): string {
  return createHmac('sha256', Buffer.from(password, 'utf8')).update(nonce, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex strings of equal meaning. */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
