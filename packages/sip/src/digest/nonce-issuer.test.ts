import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceIssuer } from './nonce-issuer.js';

const KEY = 'k'.repeat(32);

function setup(ttlMs = 30_000) {
  let now = 1_700_000_000_000;
  const issuer = new NonceIssuer({ key: KEY, ttlMs, clock: () => now });
  return { issuer, advance: (ms: number) => (now += ms), now: () => now };
}

describe('NonceIssuer', () => {
  it('issues distinct 64-character base64url nonces that verify as valid', () => {
    const { issuer } = setup();
    const a = issuer.issue('biloxi.com');
    const b = issuer.issue('biloxi.com');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(issuer.verify(a, 'biloxi.com')).toBe('valid');
  });

  it('never repeats a nonce across many issues at the same instant', () => {
    const { issuer } = setup();
    const seen = new Set(Array.from({ length: 2000 }, () => issuer.issue('r')));
    expect(seen.size).toBe(2000);
    for (const nonce of seen) expect(issuer.verify(nonce, 'r')).toBe('valid');
  });

  it('reports the issue time', () => {
    const { issuer, now } = setup();
    const nonce = issuer.issue('r');
    expect(issuer.check(nonce, 'r')).toEqual({ status: 'valid', issuedAt: now() });
  });

  it('turns a nonce stale after the ttl, not before', () => {
    const { issuer, advance } = setup(30_000);
    const nonce = issuer.issue('r');
    advance(30_000);
    expect(issuer.verify(nonce, 'r')).toBe('valid');
    advance(1);
    expect(issuer.verify(nonce, 'r')).toBe('stale');
  });

  it('refuses a nonce issued for another realm', () => {
    const { issuer } = setup();
    expect(issuer.verify(issuer.issue('atlanta.com'), 'biloxi.com')).toBe('invalid');
  });

  it('refuses a nonce signed with another key', () => {
    const { issuer } = setup();
    const other = new NonceIssuer({ key: 'x'.repeat(32), clock: () => 1_700_000_000_000 });
    expect(issuer.verify(other.issue('r'), 'r')).toBe('invalid');
  });

  it('refuses a forged nonce whose time was moved forward to dodge staleness', () => {
    const { issuer, advance } = setup(30_000);
    const nonce = issuer.issue('r');
    advance(60_000);
    const bytes = Buffer.from(nonce, 'base64url');
    bytes.writeUIntBE(bytes.readUIntBE(0, 6) + 60_000, 0, 6);
    expect(issuer.verify(bytes.toString('base64url'), 'r')).toBe('invalid');
  });

  it.each([
    ['empty', ''],
    ['too short', 'abc'],
    ['not base64url', '!'.repeat(64)],
    ['padded base64', 'A'.repeat(62) + '=='],
    ['a flipped character', ''],
  ])('refuses a garbled nonce (%s)', (name, value) => {
    const { issuer } = setup();
    let nonce = value;
    if (name === 'a flipped character') {
      const good = issuer.issue('r');
      nonce = good.slice(0, 40) + (good[40] === 'A' ? 'B' : 'A') + good.slice(41);
    }
    expect(issuer.verify(nonce, 'r')).toBe('invalid');
  });

  it('refuses a nonce stamped far in the future (clock stepped back)', () => {
    let now = 1_700_000_000_000;
    const issuer = new NonceIssuer({ key: KEY, clock: () => now, maxClockSkewMs: 1000 });
    const nonce = issuer.issue('r');
    now -= 5000;
    expect(issuer.verify(nonce, 'r')).toBe('invalid');
  });

  it('checks by the MAC a nonce it no longer remembers: one issued long ago, or by another node with the key', () => {
    const { issuer, now } = setup(3_600_000);
    const first = issuer.issue('r');
    for (let i = 0; i < 20_000; i++) issuer.issue('other'); // pushes `first` out of what is remembered
    expect(issuer.check(first, 'r')).toEqual({ status: 'valid', issuedAt: now() });
    expect(issuer.verify(first, 'other')).toBe('invalid');
    // Another node (or this one after a restart) with the same key remembers nothing of it.
    const peer = new NonceIssuer({ key: KEY, ttlMs: 3_600_000, clock: now });
    expect(peer.check(first, 'r')).toEqual({ status: 'valid', issuedAt: now() });
    const tampered = `${first.slice(0, 30)}${first[30] === 'A' ? 'B' : 'A'}${first.slice(31)}`;
    expect(issuer.verify(tampered, 'r')).toBe('invalid');
  });

  it('refuses a key shorter than 16 bytes', () => {
    expect(() => new NonceIssuer({ key: 'short', clock: Date.now })).toThrow(
      expect.objectContaining({ code: 'DIGEST_INVALID_OPTION' }),
    );
  });

  it('binds a nonce to the challenged source: elsewhere it is foreign, remembered or not', () => {
    const { issuer, now } = setup(3_600_000);
    const nonce = issuer.issue('r', 'udp 127.0.0.2');
    expect(issuer.verify(nonce, 'r', 'udp 127.0.0.2')).toBe('valid');
    expect(issuer.verify(nonce, 'r', 'udp 127.0.0.3')).toBe('foreign');
    expect(issuer.verify(nonce, 'r')).toBe('foreign');
    expect(issuer.verify(nonce, 'other', 'udp 127.0.0.2')).toBe('invalid');
    const peer = new NonceIssuer({ key: KEY, ttlMs: 3_600_000, clock: now });
    expect(peer.verify(nonce, 'r', 'udp 127.0.0.2')).toBe('valid');
    expect(peer.verify(nonce, 'r', 'tcp 127.0.0.2 tcp:4')).toBe('foreign');
    // An unbound nonce is foreign to any binding.
    expect(peer.verify(issuer.issue('r'), 'r', 'udp 127.0.0.2')).toBe('foreign');
    // The binding MAC cannot be moved to another nonce: flip a bit of it and the nonce is foreign, not valid.
    const raw = Buffer.from(nonce, 'base64url');
    raw[40] = raw[40]! ^ 1;
    expect(peer.verify(raw.toString('base64url'), 'r', 'udp 127.0.0.2')).toBe('foreign');
  });

  it('signs with HMAC-SHA256(key, time | random | realm [| 0 | binding]) cut to 128 bits, for any key length and realm', () => {
    const keys = ['k'.repeat(16), 'x'.repeat(64), 'long key '.repeat(20), new Uint8Array(40).fill(0xa5)];
    const realms = [
      'biloxi.com',
      'münchen.example',
      '\u{1F4DE}.example',
      'r'.repeat(255),
      'é'.repeat(300),
      'z'.repeat(2000),
      '',
    ];
    for (const key of keys) {
      const issuer = new NonceIssuer({ key, clock: () => 1_700_000_000_000 });
      for (const realm of realms) {
        const raw = Buffer.from(issuer.issue(realm), 'base64url');
        const mac = (text: string, head = raw.subarray(0, 16)) =>
          createHmac('sha256', typeof key === 'string' ? Buffer.from(key) : key)
            .update(head)
            .update(text, 'utf8')
            .digest()
            .subarray(0, 16);
        const expected = mac(realm);
        expect(raw.subarray(16, 32).equals(expected), `key of ${key.length}, realm of ${realm.length}`).toBe(true);
        expect(raw.subarray(32).equals(expected)).toBe(true);
        const bound = Buffer.from(issuer.issue(realm, 'ws 127.0.0.9 ws:1'), 'base64url');
        expect(bound.subarray(32).equals(mac(`${realm}\u0000ws 127.0.0.9 ws:1`, bound.subarray(0, 16)))).toBe(true);
        expect(issuer.verify(raw.toString('base64url'), realm)).toBe('valid');
        // One realm's nonce is another's forgery, even when a short realm follows a long one in the shared buffer.
        if (realm !== '') expect(issuer.verify(raw.toString('base64url'), realm.slice(0, -1))).toBe('invalid');
      }
    }
  });
});
