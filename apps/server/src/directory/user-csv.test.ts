import { describe, expect, it } from 'vitest';
import { DirectoryError } from './directory-error.js';
import { parseUserCsv } from './user-csv.js';

function errorOf(text: string): DirectoryError {
  try {
    parseUserCsv(text);
  } catch (err) {
    if (err instanceof DirectoryError) return err;
    throw err;
  }
  throw new Error('expected a DirectoryError');
}

describe('parseUserCsv', () => {
  it('reads columns in any order, with optional name and email', () => {
    const rows = parseUserCsv('password,Email,ext,name\r\npw1,A@X.org,1001,Alice\r\npw2,,1002,\r\n');
    expect(rows).toEqual([
      { line: 2, ext: '1001', password: 'pw1', name: 'Alice', email: 'a@x.org' },
      { line: 3, ext: '1002', password: 'pw2', name: undefined, email: undefined },
    ]);
  });

  it('skips blank lines and a byte-order mark and keeps true line numbers', () => {
    const rows = parseUserCsv('\uFEFFext,password\n\n1001,a\n\n1002,b');
    expect(rows.map((r) => [r.line, r.ext])).toEqual([
      [3, '1001'],
      [5, '1002'],
    ]);
  });

  it('keeps a password exactly, spaces, commas and quotes included', () => {
    const [row] = parseUserCsv('ext,password\n 1001 ," p,a""ss "\n');
    expect(row).toMatchObject({ ext: '1001', password: ' p,a"ss ' });
    expect(parseUserCsv('ext,password\n1001,ab"c\n')[0]?.password).toBe('ab"c');
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a header without password', 'ext,name\n1001,A\n', /line 1: .*"password"/],
    ['an unknown column', 'ext,password,pin\n1,2,3\n', /line 1: unknown column "pin"/],
    ['a repeated column', 'ext,password,ext\n1,2,3\n', /line 1: column "ext" appears twice/],
    ['a row with too many fields', 'ext,password\n1001,a\n1002,b,c\n', /^line 3: wrong number of fields/],
    ['an unclosed quote', 'ext,password\n1001,"abc\n1002,x\n', /^line \d+: a quoted field is not closed/],
    ['a bad extension', 'ext,password\n1001,a\n10 02,b\n', /^line 3: invalid extension "10 02"/],
    ['an empty password', 'ext,password\n1001,\n', /^line 2: password must not be empty/],
    ['a bad email', 'ext,password,email\n1001,a,not-an-email\n', /^line 2: invalid email/],
    [
      'a control character in a name',
      'ext,password,name\n1001,a,"x\u0007y"\n',
      /^line 2: name must not contain control/,
    ],
  ])('rejects %s, naming the line', (_label, text, message) => {
    const err = errorOf(text);
    expect(err.message).toMatch(message);
  });

  it('rejects a repeated extension with both line numbers', () => {
    const err = errorOf('ext,password\n1001,a\n1002,b\n1003,c\n1004,d\n1005,e\n1005,f\n');
    expect(err.code).toBe('CSV_LINE');
    expect(err.reason).toBe('DUPLICATE_EXTENSION');
    expect(err.line).toBe(7);
    expect(err.message).toBe('line 7: duplicate extension 1005 (also on line 6)');
  });

  it('rejects a repeated email (case-insensitively)', () => {
    const err = errorOf('ext,password,email\n1,a,x@y.org\n2,b,X@Y.ORG\n');
    expect(err.message).toBe('line 3: duplicate email x@y.org (also on line 2)');
  });

  it('never puts the password into an error message', () => {
    const err = errorOf('ext,password\nbad ext,SuperSecret1\n');
    expect(err.message).not.toContain('SuperSecret1');
  });
});
