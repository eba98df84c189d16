import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ActivationCodec, MAX_TOKEN_LENGTH } from './activation-codec.js';
import { ProvisioningError } from './provisioning-error.js';

const DOMAIN = '6f1c2d7e-0000-4000-8000-000000000001';
const OTHER = '6f1c2d7e-0000-4000-8000-000000000002';
const PERIOD = 2_492_000;
const T0 = 1_800_000_000;

function code(o: Partial<{ ext: string; nowS: number; lifetimeS: number; periodS: number; domainId: string }> = {}) {
  const codec = new ActivationCodec(randomBytes(32));
  const issued = codec.issue({ domainId: DOMAIN, ext: '1001', nowS: T0, lifetimeS: 172_800, periodS: PERIOD, ...o });
  return { codec, issued };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProvisioningError) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ActivationCodec', () => {
  it('issues a URL-safe token without ":" that opens to the same claims', () => {
    const { codec, issued } = code();
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(issued.token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(issued.expiresAt - issued.issuedAt).toBe(172_800);
    expect(codec.open(issued.token, DOMAIN, T0 + 10)).toEqual({
      codeId: issued.codeId,
      ext: '1001',
      issuedAt: T0,
      expiresAt: T0 + 172_800,
    });
  });

  it('keeps the extension and domain out of the clear text', () => {
    const { issued } = code({ ext: 'alice-secret-ext' });
    const raw = Buffer.from(issued.token, 'base64url');
    expect(raw.includes(Buffer.from('alice-secret-ext'))).toBe(false);
    expect(raw.includes(Buffer.from(DOMAIN))).toBe(false);
  });

  it('refuses every single flipped bit', () => {
    const { codec, issued } = code();
    const raw = Buffer.from(issued.token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x01;
      expect(refusal(() => codec.open(bad.toString('base64url'), DOMAIN, T0 + 1))).toBe('CODE_INVALID');
    }
  });

  it('refuses truncated, padded, non-base64url and oversized tokens', () => {
    const { codec, issued } = code();
    for (const t of [
      issued.token.slice(0, -1),
      issued.token.slice(0, 20),
      '',
      issued.token + 'A',
      issued.token.replace(/.$/, '='),
      issued.token.slice(0, 10) + ':' + issued.token.slice(11),
      'A'.repeat(MAX_TOKEN_LENGTH + 1),
      '\u0000'.repeat(40),
    ])
      expect(refusal(() => codec.open(t, DOMAIN, T0 + 1))).toBe('CODE_INVALID');
  });

  it("refuses a code presented for another domain, and another server's code", () => {
    const { codec, issued } = code();
    expect(refusal(() => codec.open(issued.token, OTHER, T0 + 1))).toBe('CODE_INVALID');
    expect(refusal(() => new ActivationCodec(randomBytes(32)).open(issued.token, DOMAIN, T0 + 1))).toBe('CODE_INVALID');
  });

  it('expires at qr_expiration', () => {
    const { codec, issued } = code({ lifetimeS: 3600 });
    expect(codec.open(issued.token, DOMAIN, T0 + 3599).ext).toBe('1001');
    expect(refusal(() => codec.open(issued.token, DOMAIN, T0 + 3600))).toBe('CODE_EXPIRED');
  });

  it('opens under the previous key after a rotation and refuses codes older than that', () => {
    // A long-lived code (lifetime = period) issued late in its epoch is still good in the next one.
    const periodS = 3600;
    const issuedAt = Math.floor(T0 / periodS) * periodS + periodS - 10;
    const { codec, issued } = code({ nowS: issuedAt, lifetimeS: periodS, periodS });
    expect(codec.open(issued.token, DOMAIN, issuedAt + 20).codeId).toBe(issued.codeId);
    // Two periods on, its key is older than the previous one: refused even though authentic.
    expect(refusal(() => codec.open(issued.token, DOMAIN, issuedAt + 2 * periodS + 20))).toBe('KEY_RETIRED');
  });

  it('refuses a lifetime longer than the key period at issue', () => {
    expect(refusal(() => code({ lifetimeS: 7200, periodS: 3600 }))).toBe('INVALID_INPUT');
  });

  it('gives each code its own id and a stable keyed lookup hash', () => {
    const { codec, issued } = code();
    const again = codec.issue({ domainId: DOMAIN, ext: '1001', nowS: T0, lifetimeS: 60, periodS: PERIOD });
    expect(again.codeId).not.toBe(issued.codeId);
    expect(again.token).not.toBe(issued.token);
    expect(codec.lookupHash(issued.token)).toBe(codec.lookupHash(issued.token));
    expect(codec.lookupHash(issued.token)).not.toBe(codec.lookupHash(again.token));
    expect(codec.lookupHash(issued.token)).not.toContain(issued.token.slice(0, 16));
  });
});
