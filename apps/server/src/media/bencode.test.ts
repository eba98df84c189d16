import { describe, expect, it } from 'vitest';
import { bdecode, bencode } from './bencode.js';
import { MediaError } from './media-error.js';

describe('bencode', () => {
  it('encodes an ng offer as rtpengine expects (sorted keys, yes/no booleans)', () => {
    const out = bencode({ command: 'offer', 'call-id': 'a', flags: ['x', 'y'], n: 3, r: true, skip: undefined });
    expect(out.toString()).toBe('d7:call-id1:a7:command5:offer5:flagsl1:x1:ye1:ni3e1:r3:yese');
  });

  it('round-trips nested values and multi-byte text by byte length', () => {
    const v = { sdp: 'v=0\r\ns=ünïcødé\r\n', list: [1, -2, 'x', { deep: [] }] };
    const text = bencode(v);
    expect(text.toString('utf8')).toContain(`${Buffer.byteLength(v.sdp)}:`);
    expect(bdecode(text)).toEqual(v);
  });

  it.each([
    ['empty input', ''],
    ['a string longer than the data', '10:abc'],
    ['a leading-zero length', '03:abc'],
    ['a huge length', '99999999999:x'],
    ['an integer with a leading zero', 'i01e'],
    ['an unterminated integer', 'i12'],
    ['a non-numeric integer', 'iabce'],
    ['an unterminated list', 'l1:a'],
    ['an integer dictionary key', 'di1e1:ae'],
    ['trailing bytes', '1:ax'],
    ['an unknown type byte', 'x'],
    ['nesting 10000 deep', 'l'.repeat(10_000) + 'e'.repeat(10_000)],
  ])('refuses %s with a MediaError', (_name, input) => {
    expect(() => bdecode(Buffer.from(input))).toThrow(MediaError);
  });

  it('refuses to encode a fraction', () => {
    expect(() => bencode({ n: 1.5 })).toThrow(MediaError);
  });

  it('decodes a dictionary without an inherited prototype (a "__proto__" key stays data)', () => {
    const d = bdecode(Buffer.from('d9:__proto__d1:ai1eee')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBeNull();
    expect(d.__proto__).toEqual({ a: 1 });
  });
});
