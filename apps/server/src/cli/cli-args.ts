import { parseArgs } from 'node:util';
import type { AdminCommand } from './admin-commands.js';
import { CliError } from './cli-error.js';
import { parseLineOptions } from './device-commands.js';

/** What the command line asks for. */
export type CliInvocation =
  | { kind: 'help' }
  | { kind: 'start' }
  | { kind: 'key-show' }
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
      role?: 'owner' | 'admin' | 'agent' | undefined;
      loginPassword?: string | undefined;
      phone?: string | undefined;
      json: boolean;
    }
  /** `superadmin create --password-stdin`. */
  | { kind: 'superadmin-stdin'; email: string; name: string | undefined; json: boolean };

/** Usage text for `handset --help`. */
export const USAGE = `Usage: handset <command>

  start                                   run the server (SIP, HTTP, WebSocket)
  domains add <domain> [--name <n>]       add a domain (tenant)
  domains list [--json]                   list domains
  users add <ext>@<domain> --password <p> [--name <n>] [--email <e>] [--role owner|admin|agent]
            [--login-password <p>] [--phone <n>]
                                          add a user; --password is the SIP password (or
                                          --password-stdin), --login-password the sign-in one
  users import <file.csv> --domain <d>    import users from CSV: header ext,password[,name,email]
  users list [--domain <d>] [--json]      list users
  cdrs list [--domain <d>] [--limit <n>] [--json]
                                          list call detail records, newest first
  groups add <ext>@<domain> --name <n> [--strategy simultaneous|sequential] [--ring-timeout <s>]
                                          add a ring group (its extension rings its members)
  groups members <ext>@<domain> <member-ext>...
                                          set a group's members, in ring order
  groups list [--domain <d>] [--json]     list groups
  tokens create <email> [--name <n>]      create an API token for a user (or superadmin);
                                          prints the token alone on its last line
  superadmin create <email> --password <p> [--name <n>]
                                          add a system superadmin (or --password-stdin)
  db migrate                              bring the database schema up to date
  key show                                print the server key (HANDSET_SECRET_KEY), which every
                                          node of a cluster must share; data dir owner only
  activations create <ext>@<domain> [--png <file>] [--json]
                                          a softphone activation code: prints the QR text on
                                          its last line; --png writes the QR image

  devices add <mac> --vendor <v> [--model <m>] [--label <l>] --line 1:<ext>@<domain> [--line 2:...]
                                          add a desk phone (yealink, polycom, grandstream, snom,
                                          fanvil, cisco); MAC in any notation
  devices list [--domain <d>] [--json]    list desk phones (vendor, model, firmware, lines, last contact)
  devices resync <mac> [--reboot]         send check-sync (or a reboot) to the phone's registrations
  settings set <key> <value> [--domain <d>]
                                          set a setting server-wide or for one domain (null resets)
  settings get <key> [--domain <d>]       show a setting's effective value and where it comes from
  settings list [--domain <d>] [--json]   list every setting

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
  role: { type: 'string' },
  'login-password': { type: 'string' },
  phone: { type: 'string' },
  strategy: { type: 'string' },
  'ring-timeout': { type: 'string' },
  vendor: { type: 'string' },
  model: { type: 'string' },
  label: { type: 'string' },
  line: { type: 'string', multiple: true },
  reboot: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'string'
      ? string
      : boolean;
};

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
  if (cmd === 'key show') {
    allow();
    args(0, '');
    return { kind: 'key-show' };
  }

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
      allow('password', 'password-stdin', 'name', 'email', 'role', 'login-password', 'phone', 'json');
      args(1, '<ext>@<domain> --password <p> [--name <n>] [--email <e>]');
      const { ext, domain } = splitAddress(rest[0]!);
      const role = values.role;
      if (role !== undefined && role !== 'owner' && role !== 'admin' && role !== 'agent')
        throw new CliError('USAGE', '--role must be owner, admin or agent');
      const extra = { role: role as 'owner' | 'admin' | 'agent' | undefined, loginPassword: values['login-password'], phone: values.phone };
      if (values['password-stdin']) {
        if (values.password !== undefined)
          throw new CliError('USAGE', 'give either --password or --password-stdin, not both');
        return { kind: 'add-user-stdin', domain, ext, name: values.name, email: values.email, ...extra, json };
      }
      if (values.password === undefined)
        throw new CliError('USAGE', 'users add needs --password <p> (or --password-stdin)');
      return {
        kind: 'admin',
        json,
        command: {
          command: 'users.create',
          args: { domain, ext, password: values.password, name: values.name, email: values.email, ...extra },
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
    case 'groups add': {
      allow('name', 'strategy', 'ring-timeout', 'json');
      args(1, '<ext>@<domain> --name <n> [--strategy simultaneous|sequential] [--ring-timeout <s>]');
      const { ext, domain } = splitAddress(rest[0]!);
      if (values.name === undefined) throw new CliError('USAGE', 'groups add needs --name <n>');
      const strategy = values.strategy;
      if (strategy !== undefined && strategy !== 'simultaneous' && strategy !== 'sequential')
        throw new CliError('USAGE', '--strategy must be simultaneous or sequential');
      const ringTimeoutS = values['ring-timeout'] === undefined ? undefined : Number(values['ring-timeout']);
      if (ringTimeoutS !== undefined && (!Number.isInteger(ringTimeoutS) || ringTimeoutS < 1 || ringTimeoutS > 600))
        throw new CliError('USAGE', '--ring-timeout must be a whole number of seconds from 1 to 600');
      return {
        kind: 'admin',
        json,
        command: { command: 'groups.add', args: { domain, ext, name: values.name, strategy, ringTimeoutS } },
      };
    }
    case 'groups members': {
      allow('json');
      if (rest.length < 1) throw new CliError('USAGE', 'usage: handset groups members <ext>@<domain> <member-ext>...');
      const { ext, domain } = splitAddress(rest[0]!);
      return { kind: 'admin', json, command: { command: 'groups.members', args: { domain, ext, members: rest.slice(1) } } };
    }
    case 'groups list':
      allow('domain', 'json');
      args(0, '[--domain <d>] [--json]');
      return { kind: 'admin', json, command: { command: 'groups.list', args: { domain: values.domain } } };
    case 'tokens create':
      allow('name', 'json');
      args(1, '<email> [--name <n>]');
      return { kind: 'admin', json, command: { command: 'tokens.create', args: { email: rest[0]!, name: values.name } } };
    case 'superadmin create': {
      allow('password', 'password-stdin', 'name', 'json');
      args(1, '<email> --password <p> [--name <n>]');
      if (values['password-stdin']) {
        if (values.password !== undefined)
          throw new CliError('USAGE', 'give either --password or --password-stdin, not both');
        return { kind: 'superadmin-stdin', email: rest[0]!, name: values.name, json };
      }
      if (values.password === undefined)
        throw new CliError('USAGE', 'superadmin create needs --password <p> (or --password-stdin)');
      return {
        kind: 'admin',
        json,
        command: { command: 'superadmin.create', args: { email: rest[0]!, password: values.password, name: values.name } },
      };
    }
    case 'db migrate':
      allow('json');
      args(0, '');
      return { kind: 'admin', json, command: { command: 'db.migrate', args: {} } };
    case 'activations create': {
      allow('png', 'json');
      args(1, '<ext>@<domain> [--png <file>]');
      const { ext, domain } = splitAddress(rest[0]!);
      return {
        kind: 'activation',
        json,
        png: values.png,
        command: { command: 'activations.create', args: { domain, ext } },
      };
    }
    case 'devices add': {
      allow('vendor', 'model', 'label', 'line', 'domain', 'json');
      args(1, '<mac> --vendor <v> [--model <m>] --line 1:<ext>@<domain> [--line 2:...]');
      if (values.vendor === undefined) throw new CliError('USAGE', 'devices add needs --vendor <v>');
      const lines = parseLineOptions(values.line ?? []);
      return {
        kind: 'admin',
        json,
        command: {
          command: 'devices.add',
          args: {
            mac: rest[0]!,
            vendor: values.vendor,
            model: values.model,
            label: values.label,
            domain: values.domain,
            lines,
          },
        },
      };
    }
    case 'devices list':
      allow('domain', 'json');
      args(0, '[--domain <d>] [--json]');
      return { kind: 'admin', json, command: { command: 'devices.list', args: { domain: values.domain } } };
    case 'devices resync':
      allow('reboot', 'json');
      args(1, '<mac> [--reboot]');
      return {
        kind: 'admin',
        json,
        command: { command: 'devices.resync', args: { mac: rest[0]!, reboot: values.reboot === true } },
      };
    case 'settings set':
      allow('domain', 'json');
      args(2, '<key> <value> [--domain <d>]');
      return {
        kind: 'admin',
        json,
        command: { command: 'settings.set', args: { key: rest[0]!, value: rest[1]!, domain: values.domain } },
      };
    case 'settings get':
      allow('domain', 'json');
      args(1, '<key> [--domain <d>]');
      return {
        kind: 'admin',
        json,
        command: { command: 'settings.get', args: { key: rest[0]!, domain: values.domain } },
      };
    case 'settings list':
      allow('domain', 'json');
      args(0, '[--domain <d>] [--json]');
      return { kind: 'admin', json, command: { command: 'settings.list', args: { domain: values.domain } } };
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
