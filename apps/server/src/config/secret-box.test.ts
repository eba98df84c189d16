import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from './secret-box.js';

const box = new SecretBox(randomBytes(32));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SecretBoxError ? err.code : 'OTHER';
  }
  return undefined;
}

describe('SecretBox', () => {
  it('opens what it sealed, including non-ASCII text', () => {
    for (const s of ['s3cret', '', 'pässwörd 🔐', 'x'.repeat(500)]) expect(box.open(box.seal(s))).toBe(s);
  });

  it('seals as a versioned base64url string that does not contain the plaintext', () => {
    const sealed = box.seal('hunter2');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from('hunter2').toString('base64url')).not.toBe(sealed.slice(3));
  });

  it('seals the same plaintext differently each time (random IV)', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('rejects a tampered value', () => {
    const sealed = box.seal('hunter2');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[14] = (raw[14] ?? 0) ^ 1;
    expect(codeOf(() => box.open(`v1.${raw.toString('base64url')}`))).toBe('AUTH_FAILED');
  });

  it('rejects a value sealed under another key', () => {
    expect(codeOf(() => new SecretBox(randomBytes(32)).open(box.seal('x')))).toBe('AUTH_FAILED');
  });

  it.each([
    ['no prefix', 'abc', 'MALFORMED'],
    ['unknown version', 'v9.AAAA', 'UNSUPPORTED_VERSION'],
    ['not base64url', 'v1.***', 'MALFORMED'],
    ['too short', 'v1.AAAA', 'MALFORMED'],
  ])('rejects %s', (_label, input, code) => {
    expect(codeOf(() => box.open(input))).toBe(code);
  });

  it('requires a 32-byte key', () => {
    expect(codeOf(() => new SecretBox(randomBytes(16)))).toBe('BAD_KEY');
  });

  it('derives a stable key id that differs between keys and is not the key', () => {
    const key = randomBytes(32);
    expect(new SecretBox(key).keyId).toBe(new SecretBox(key).keyId);
    expect(new SecretBox(key).keyId).not.toBe(box.keyId);
    expect(key.toString('hex')).not.toContain(new SecretBox(key).keyId);
  });
});
