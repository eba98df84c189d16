import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './cli-args.js';
import { CliError } from './cli-error.js';

function usageError(argv: string[]): string {
  try {
    parseCliArgs(argv);
  } catch (err) {
    if (err instanceof CliError && err.code === 'USAGE') return err.message;
    throw err;
  }
  throw new Error('expected a usage error');
}

describe('parseCliArgs', () => {
  it('parses every command', () => {
    expect(parseCliArgs(['start'])).toEqual({ kind: 'start' });
    expect(parseCliArgs([])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['domains', 'add', 'a.example', '--name', 'A'])).toEqual({
      kind: 'admin',
      json: false,
      command: { command: 'domains.add', args: { domain: 'a.example', name: 'A' } },
    });
    expect(parseCliArgs(['domains', 'list', '--json'])).toMatchObject({
      json: true,
      command: { command: 'domains.list' },
    });
    expect(parseCliArgs(['users', 'add', 'bob@x@a.example', '--password', 'p', '--email', 'b@a.example'])).toEqual({
      kind: 'admin',
      json: false,
      command: {
        command: 'users.create',
        args: {
          domain: 'a.example',
          ext: 'bob@x',
          password: 'p',
          name: undefined,
          email: 'b@a.example',
          role: undefined,
          loginPassword: undefined,
          phone: undefined,
        },
      },
    });
    expect(
      parseCliArgs(['users', 'add', '7@a.example', '--password', 'p', '--role', 'admin', '--login-password', 'lp', '--phone', '+1 5']),
    ).toMatchObject({ command: { command: 'users.create', args: { role: 'admin', loginPassword: 'lp', phone: '+1 5' } } });
    expect(parseCliArgs(['groups', 'add', '600@a.example', '--name', 'Sales', '--ring-timeout', '15'])).toMatchObject({
      command: { command: 'groups.add', args: { domain: 'a.example', ext: '600', name: 'Sales', ringTimeoutS: 15 } },
    });
    expect(parseCliArgs(['groups', 'members', '600@a.example', '101', '102'])).toMatchObject({
      command: { command: 'groups.members', args: { ext: '600', members: ['101', '102'] } },
    });
    expect(parseCliArgs(['tokens', 'create', 'a@b.example'])).toMatchObject({
      command: { command: 'tokens.create', args: { email: 'a@b.example' } },
    });
    expect(parseCliArgs(['superadmin', 'create', 'r@ops.example', '--password-stdin'])).toEqual({
      kind: 'superadmin-stdin',
      email: 'r@ops.example',
      name: undefined,
      json: false,
    });
    expect(parseCliArgs(['db', 'migrate'])).toMatchObject({ command: { command: 'db.migrate' } });
    expect(() => parseCliArgs(['users', 'add', '1@a.example', '--password', 'p', '--role', 'king'])).toThrow('--role must be');
    expect(() => parseCliArgs(['groups', 'add', '1@a.example', '--name', 'x', '--ring-timeout', '0'])).toThrow('--ring-timeout');
    expect(parseCliArgs(['users', 'add', '1@a.example', '--password-stdin'])).toMatchObject({
      kind: 'add-user-stdin',
      ext: '1',
      domain: 'a.example',
    });
    expect(parseCliArgs(['users', 'import', 'u.csv', '--domain', 'a.example'])).toEqual({
      kind: 'import',
      file: 'u.csv',
      domain: 'a.example',
      json: false,
    });
    expect(parseCliArgs(['users', 'list', '--domain', 'a.example'])).toMatchObject({
      command: { command: 'users.list', args: { domain: 'a.example' } },
    });
  });

  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['domains', 'remove', 'x'], /unknown command "domains remove"/],
    [['domains', 'add'], /usage: handset domains add <domain>/],
    [['domains', 'add', 'a', 'b'], /usage: handset domains add/],
    [['users', 'add', '1001', '--password', 'p'], /expected <ext>@<domain>/],
    [['users', 'add', '1001@', '--password', 'p'], /expected <ext>@<domain>/],
    [['users', 'add', '1001@a.example'], /needs --password/],
    [['users', 'add', '1@a', '--password', 'p', '--password-stdin'], /either --password or --password-stdin/],
    [['users', 'import', 'f.csv'], /needs --domain/],
    [['users', 'list', '--name', 'x'], /--name does not apply to "users list"/],
    [['domains', 'list', '--frobnicate'], /frobnicate/],
    [['start', 'now'], /usage: handset start/],
  ])('rejects %j with one line', (argv, message) => {
    const msg = usageError(argv);
    expect(msg).toMatch(message);
    expect(msg).not.toContain('\n');
  });
});
