import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FlowTokenCodec } from './flow-token.js';

const ws = { protocol: 'ws', address: '192.0.2.7', port: 50123, flowId: 'ws-42' } as const;
const udp = { protocol: 'udp', address: '2001:db8::1', port: 5060, flowId: undefined } as const;

describe('FlowTokenCodec', () => {
  it('decodes what it encoded, for a connection and for a UDP peer, the first time and the next', () => {
    const codec = new FlowTokenCodec(randomBytes(32));
    for (const target of [ws, udp]) {
      const token = codec.encode(target);
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/);
      expect(codec.encode({ ...target })).toBe(token);
      expect(codec.decode(token)).toEqual(target);
      expect(codec.decode(token)).toEqual(target);
    }
  });

  it('refuses a token of another key, a changed payload or MAC, and garbage, every time it comes', () => {
    const codec = new FlowTokenCodec(randomBytes(32));
    const other = new FlowTokenCodec(randomBytes(32));
    const good = codec.encode(ws);
    const [payload, mac] = good.split('.') as [string, string];
    const forgedPayload = Buffer.from('udp||203.0.113.9|5060').toString('base64url');
    const hostile = [
      other.encode(ws),
      `${forgedPayload}.${mac}`,
      `${payload}.${mac.slice(0, 15)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `${payload}.`,
      '.abc',
      'no-dot-at-all',
      `${'A'.repeat(600)}.${mac}`,
      '',
    ];
    expect(codec.decode(good)).toEqual(ws); // a valid token is remembered; the forgeries still fail
    for (let round = 0; round < 2; round++) for (const t of hostile) expect(codec.decode(t)).toBeUndefined();
  });

  it('hands out targets the caller may change without changing what the next decode returns', () => {
    const codec = new FlowTokenCodec(randomBytes(32));
    const token = codec.encode(ws);
    const first = codec.decode(token)!;
    first.address = '203.0.113.66';
    expect(codec.decode(token)).toEqual(ws);
  });

  it('still verifies tokens after many more flows than it remembers', () => {
    const codec = new FlowTokenCodec(randomBytes(32));
    const tokens = Array.from({ length: 10_000 }, (_, i) => codec.encode({ ...ws, flowId: `ws-${i}`, port: 1024 + i }));
    for (let i = 0; i < tokens.length; i += 997) {
      expect(codec.decode(tokens[i]!)).toEqual({ ...ws, flowId: `ws-${i}`, port: 1024 + i });
    }
  });
});
