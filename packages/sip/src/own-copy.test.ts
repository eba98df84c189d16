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
