import { describe, expect, it } from 'vitest';
import { ownCopy, ownCopyOf } from './own-copy.js';

describe('ownCopy', () => {
  it('returns the same text, for ASCII, non-ASCII, astral and lone-surrogate strings', () => {
    const whole = 'REGISTER sip:example.com SIP/2.0\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n';
    const callId = whole.slice(whole.indexOf('Call-ID: ') + 9, whole.lastIndexOf('\r\n'));
    for (const s of [
      callId,
      'Zoë Ångström <sip:zoe@example.com>',
      'emoji 📞 in a display name',
      'lone \ud800 surrogate here',
    ]) {
      expect(ownCopy(s)).toBe(s);
    }
  });

  it('passes short strings and undefined through', () => {
    expect(ownCopy('')).toBe('');
    expect(ownCopy('abc')).toBe('abc');
    expect(ownCopyOf(undefined)).toBeUndefined();
    expect(ownCopyOf('a-longer-user-agent/1.0')).toBe('a-longer-user-agent/1.0');
  });
});

describe('ownCopy memory', () => {
  it('keeps none of the message a copied value came from', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = () => {
      for (let i = 0; i < 3; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    // 40 received messages of 1 MB each; from each, only a Call-ID-sized value is kept.
    const keep = (copy: (s: string) => string): string[] => {
      const kept: string[] = [];
      for (let i = 0; i < 40; i++) {
        const message = `Call-ID: ${String(i).padStart(2, '0')}-${'c'.repeat(40)}\r\n${String(i % 10).repeat(1 << 20)}`;
        kept.push(copy(message.slice(9, 9 + 43)));
      }
      return kept;
    };
    const before = settle();
    const views = keep((s) => s);
    const withViews = settle() - before;
    expect(views).toHaveLength(40);
    views.length = 0;
    const base = settle();
    const copies = keep(ownCopy);
    const withCopies = settle() - base;
    expect(copies[7]).toBe(`07-${'c'.repeat(40)}`);
    // Views keep every 1 MB message alive (the check that this test can tell); copies keep ~40 small strings.
    expect(withViews).toBeGreaterThan(30 << 20);
    expect(withCopies).toBeLessThan(1 << 20);
  });
});
