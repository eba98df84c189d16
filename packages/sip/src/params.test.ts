import { describe, expect, it } from 'vitest';
import { formatParams, parseParams } from './grammar.js';
import { Params } from './params.js';
import { parseUri } from './sip-uri.js';
import { parseVia } from './via.js';

describe('Params', () => {
  it('keeps parameters in the order written and reads them by name, null for a valueless one', () => {
    const p = parseParams(';transport=tcp;lr;maddr=10.0.0.1', 0);
    expect([...p]).toEqual([
      ['transport', 'tcp'],
      ['lr', null],
      ['maddr', '10.0.0.1'],
    ]);
    expect(p.size).toBe(3);
    expect(p.get('lr')).toBeNull();
    expect(p.has('lr')).toBe(true);
    expect(p.get('ttl')).toBeUndefined();
    expect(p.has('ttl')).toBe(false);
    expect([...p.keys()]).toEqual(['transport', 'lr', 'maddr']);
    expect([...p.values()]).toEqual(['tcp', null, '10.0.0.1']);
  });

  it('replaces a repeated name in place, as a Map does (the last value wins, the first position stays)', () => {
    const p = parseParams(';a=1;b=2;a=3', 0);
    expect([...p]).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
    expect(formatParams(p)).toBe(';a=3;b=2');
  });

  it('sets, deletes and clones without the copy and the original sharing anything', () => {
    const p = new Params([
      ['branch', 'z9hG4bK1'],
      ['rport', null],
    ]);
    const copy = p.clone();
    copy.set('rport', '5062').set('received', '192.0.2.1');
    expect(formatParams(p)).toBe(';branch=z9hG4bK1;rport');
    expect(formatParams(copy)).toBe(';branch=z9hG4bK1;rport=5062;received=192.0.2.1');
    expect(copy.delete('branch')).toBe(true);
    expect(copy.delete('branch')).toBe(false);
    expect(formatParams(copy)).toBe(';rport=5062;received=192.0.2.1');
    expect(p.get('branch')).toBe('z9hG4bK1');
    expect(new Params().size).toBe(0);
    expect(formatParams(new Params())).toBe('');
  });

  it('looks names up exactly as stored: parsers lowercase them, so a Via or URI answers lowercase names', () => {
    const via = parseVia('SIP/2.0/UDP host;BRANCH=z9hG4bKx;RPort');
    expect(via.params.get('branch')).toBe('z9hG4bKx');
    expect(via.params.has('rport')).toBe(true);
    expect(via.params.get('BRANCH')).toBeUndefined();
    expect(parseUri('sip:alice@example.com;Transport=TLS').params.get('transport')).toBe('TLS');
  });

  it('holds many parameters (hostile input that stays under the message limits) and finds the last one', () => {
    const s = Array.from({ length: 500 }, (_, i) => `;p${i}=${i}`).join('');
    const p = parseParams(s, 0);
    expect(p.size).toBe(500);
    expect(p.get('p499')).toBe('499');
    expect(formatParams(p)).toBe(s);
  });

  it('iterates with forEach in order, value first as Map does', () => {
    const seen: string[] = [];
    parseParams(';x=1;y', 0).forEach((v, k) => seen.push(`${k}=${String(v)}`));
    expect(seen).toEqual(['x=1', 'y=null']);
  });
});
