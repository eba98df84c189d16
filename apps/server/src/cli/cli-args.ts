import { parseArgs } from 'node:util';
import type { AdminCommand } from './admin-commands.js';
import { CliError } from './cli-error.js';

/** What the command line asks for. */
export type CliInvocation =
  | { kind: 'help' }
  | { kind: 'start' }
  | { kind: 'admin'; command: AdminCommand; json: boolean }
  /** `users import`: the CLI reads the file, then sends its text as a users.import command. */
  | { kind: 'import'; file: string; domain: string; json: boolean }
  /** `activations create`: the result's QR image is written to `png` when given. */
  | { kind: 'activation'; command: AdminCommand; png: string | undefined; json: boolean }
  /** `users add --password-stdin`: the password is read from standard input. */
  | {
      kind: 'add-user-stdin';
      domain: string;
      ext: string;
      name: string | undefined;
      email: string | undefined;
      json: boolean;
    };

/** Usage text for `handset --help`. */
export const USAGE = `Usage: handset <command>

  start                                   run the server (SIP, HTTP, WebSocket)
  domains add <domain> [--name <n>]       add a domain (tenant)
  domains list [--json]                   list domains
  users add <ext>@<domain> --password <p> [--name <n>] [--email <e>]
                                          add a user (or --password-stdin)
  users import <file.csv> --domain <d>    import users from CSV: header ext,password[,name,email]
  users list [--domain <d>] [--json]      list users
  cdrs list [--domain <d>] [--limit <n>] [--json]
                                          list call detail records, newest first
  activations create <ext>@<domain> [--png <file>] [--json]
                                          a softphone activation code: prints the QR text on
                                          its last line; --png writes the QR image

Settings come from the environment (HANDSET_DATA_DIR, DATABASE_URL, ...). While the server runs
on the embedded database, commands go through it.
`;

const OPTIONS = {
  name: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  domain: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  png: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** Parses argv (without node and script); throws a USAGE {@link CliError} with one clear line. */
export function parseCliArgs(argv: readonly string[]): CliInvocation {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new CliError('USAGE', `${(err as Error).message.split('\n')[0]} (see handset --help)`);
  }
  const [group, action, ...rest] = positionals;
  if (values.help || group === undefined || group === 'help') return { kind: 'help' };
  const json = values.json === true;
  const allow = (...names: (keyof typeof OPTIONS)[]) => {
    const extra = Object.keys(values).find((k) => k !== 'help' && !names.includes(k as keyof typeof OPTIONS));
    if (extra)
      throw new CliError('USAGE', `option --${extra} does not apply to "${[group, action].filter(Boolean).join(' ')}"`);
  };
  const args = (n: number, shape: string) => {
    if (rest.length !== n)
      throw new CliError('USAGE', `usage: handset ${group} ${action ?? ''} ${shape}`.replace(/\s+/g, ' ').trim());
  };
  if (group === 'start') {
    allow();
    if (action !== undefined) throw new CliError('USAGE', 'usage: handset start');
    return { kind: 'start' };
  }
  const cmd = `${group} ${action ?? ''}`.trim();

  switch (cmd) {
    case 'domains add': {
      allow('name', 'json');
      args(1, '<domain> [--name <n>]');
      return {
        kind: 'admin',
        json,
        command: { command: 'domains.add', args: { domain: rest[0]!, name: values.name } },
      };
    }
    case 'domains list':
      allow('json');
      args(0, '[--json]');
      return { kind: 'admin', json, command: { command: 'domains.list', args: {} } };
    case 'users add': {
      allow('password', 'password-stdin', 'name', 'email', 'json');
      args(1, '<ext>@<domain> --password <p> [--name <n>] [--email <e>]');
      const { ext, domain } = splitAddress(rest[0]!);
      if (values['password-stdin']) {
        if (values.password !== undefined)
          throw new CliError('USAGE', 'give either --password or --password-stdin, not both');
        return { kind: 'add-user-stdin', domain, ext, name: values.name, email: values.email, json };
      }
      if (values.password === undefined)
        throw new CliError('USAGE', 'users add needs --password <p> (or --password-stdin)');
      return {
        kind: 'admin',
        json,
        command: {
          command: 'users.add',
          args: { domain, ext, password: values.password, name: values.name, email: values.email },
        },
      };
    }
    case 'users import':
      allow('domain', 'json');
      args(1, '<file.csv> --domain <d>');
      if (values.domain === undefined) throw new CliError('USAGE', 'users import needs --domain <d>');
      return { kind: 'import', file: rest[0]!, domain: values.domain, json };
    case 'users list':
      allow('domain', 'json');
      args(0, '[--domain <d>] [--json]');
      return { kind: 'admin', json, command: { command: 'users.list', args: { domain: values.domain } } };
    case 'cdrs list': {
      allow('domain', 'limit', 'json');
      args(0, '[--domain <d>] [--limit <n>] [--json]');
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        throw new CliError('USAGE', '--limit must be a whole number from 1 to 10000');
      return { kind: 'admin', json, command: { command: 'cdrs.list', args: { domain: values.domain, limit } } };
    }
    case 'activations create': {
      allow('png', 'json');
      args(1, '<ext>@<domain> [--png <file>]');
      const { ext, domain } = splitAddress(rest[0]!);
      return { kind: 'activation', json, png: values.png, command: { command: 'activations.create', args: { domain, ext } } };
    }
    default:
      throw new CliError('USAGE', `unknown command "${cmd}" (see handset --help)`);
  }
}

/** Splits `<ext>@<domain>` at its last "@". */
function splitAddress(address: string): { ext: string; domain: string } {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw new CliError('USAGE', `expected <ext>@<domain>, got "${address}"`);
  return { ext: address.slice(0, at), domain: address.slice(at + 1) };
}
