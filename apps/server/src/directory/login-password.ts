import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost (N = 2^14, r = 8, p = 1: about 16 MiB and a few tens of ms per hash). */
const N = 1 << 14;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { ...opts, maxmem: 64 << 20 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * Sign-in passwords, hashed with scrypt (node:crypto) in a self-describing string
 * `scrypt$N$r$p$salt$hash` so the cost can grow later without breaking stored hashes.
 */
export const loginPassword = {
  /** Hashes a password with a fresh salt. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(password, salt, { N, r: R, p: P });
    return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  },

  /** True when `password` matches `stored`; false for any malformed stored value. */
  async verify(password: string, stored: string | null | undefined): Promise<boolean> {
    const parts = stored?.split('$');
    if (parts?.length !== 6 || parts[0] !== 'scrypt') return false;
    const [n, r, p] = parts.slice(1, 4).map(Number);
    if (!n || !r || !p || n > 1 << 20 || r > 32 || p > 16) return false;
    const expected = Buffer.from(parts[5]!, 'base64url');
    if (expected.length !== KEY_LEN) return false;
    const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), { N: n, r, p });
    return timingSafeEqual(key, expected);
  },

  /** A hash that never verifies, compared against when the account is unknown (same timing). */
  async dummyVerify(password: string): Promise<void> {
    await derive(password, Buffer.alloc(16), { N, r: R, p: P });
  },
};
