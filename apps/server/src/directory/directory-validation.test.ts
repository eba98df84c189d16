import { describe, expect, it } from 'vitest';
import { directoryValidation as v } from './directory-validation.js';

describe('directoryValidation', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['localhost', 'localhost'],
    ['sip-1.a.example', 'sip-1.a.example'],
    ['192.0.2.7', '192.0.2.7'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
  ])('accepts domain %s as %s', (input, out) => {
    expect(v.domain(input)).toBe(out);
  });

  it.each([
    '',
    'a..b',
    '-a.com',
    'a-.com',
    'a_b.com',
    'exa mple.com',
    '1.2.3',
    '999.1.1.1',
    'a.com.',
    `${'a'.repeat(64)}.com`,
    'é.com',
  ])('rejects domain %j', (input) => {
    expect(() => v.domain(input)).toThrow(/invalid domain/);
  });

  it.each(['1001', 'alice', 'a.b_c-d+e', 'X'.repeat(32)])('accepts extension %s', (ext) => {
    expect(v.ext(ext)).toBe(ext);
  });

  it.each(['', 'a b', 'a@b', 'x'.repeat(33), 'a;b', 'ä'])('rejects extension %j', (ext) => {
    expect(() => v.ext(ext)).toThrow(/invalid extension/);
  });

  it('rejects empty, overlong and control-character passwords', () => {
    expect(() => v.password('')).toThrow(/empty/);
    expect(() => v.password('x'.repeat(129))).toThrow(/128/);
    expect(() => v.password('a\nb')).toThrow(/control/);
    expect(v.password(' spaced ')).toBe(' spaced ');
  });
});
