import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { DomainSummary, User } from '../directory/directory-types.js';
import type { Cdr } from '../proxy/cdr.js';
import type { CdrRepository } from '../proxy/cdr-repository.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { ActivationCodeService } from '../provisioning/activation-code-service.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import { directoryCommandSchemas, executeDirectoryCommand, type DirectoryResult } from './directory-commands.js';
import type { DeskPhones } from '../provisioning/desk/desk-wiring.js';
import { deviceCommandSchemas, executeDeviceCommand, type DeviceResult } from './device-commands.js';

const str = z.string().max(1 << 10);
const optional = str.optional();

const adminCommandSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal('domains.add'), args: z.object({ domain: str, name: optional }) }),
  z.object({ command: z.literal('domains.list'), args: z.object({}).default({}) }),
  z.object({
    command: z.literal('users.add'),
    args: z.object({ domain: str, ext: str, password: str, name: optional, email: optional }),
  }),
  z.object({ command: z.literal('users.import'), args: z.object({ domain: str, csv: z.string() }) }),
  z.object({ command: z.literal('users.list'), args: z.object({ domain: optional }).default({}) }),
  z.object({
    command: z.literal('cdrs.list'),
    args: z
      .object({ domain: optional, limit: z.number().int().min(1).max(10_000).default(100) })
      .default({ limit: 100 }),
  }),
  z.object({ command: z.literal('activations.create'), args: z.object({ domain: str, ext: str }) }),
  ...directoryCommandSchemas,
  ...deviceCommandSchemas,
]);

/** What commands run against: the directory, and the CDR store for `cdrs list`. */
export interface AdminContext {
  directory: DirectoryService;
  cdrs: CdrRepository;
  /** Issues activation codes (`activations create`); absent where provisioning is not wired. */
  activations?: ActivationCodeService;
  /** The principal-checked directory (users with roles, groups, tokens, superadmins). */
  services?: DirectoryServices;
  /** Desk phones (`devices ...`); `settings ...` needs it too (check-sync after a change). */
  desk?: DeskPhones;
  /** True inside the running server (SIP is up: check-sync can be sent). */
  running?: boolean;
}

/** An activation code in a command result: the QR image as base64 PNG. */
export interface ActivationView {
  ext: string;
  domain: string;
  qrText: string;
  expiresAt: string;
  windowsLink: string | undefined;
  pngBase64: string;
}

/** A CDR in a command result (JSON-safe). */
export type CdrView = Omit<Cdr, 'startedAt' | 'answeredAt' | 'endedAt'> & {
  startedAt: string;
  answeredAt: string | undefined;
  endedAt: string;
};

/** An administrative command, as the CLI builds it and as POST /internal/admin receives it. */
export type AdminCommand = z.infer<typeof adminCommandSchema>;

/** A domain in a command result (JSON-safe: dates are ISO strings). */
export interface DomainView {
  domain: string;
  name: string | undefined;
  active: boolean;
  userCount?: number;
  createdAt: string;
}

/** A user in a command result (JSON-safe; never a password). */
export interface UserView {
  ext: string;
  domain: string;
  name: string | undefined;
  email: string | undefined;
  active: boolean;
  createdAt: string;
}

/** What a command returns; identical whether run locally or through the server. */
export type AdminResult =
  | { kind: 'domain'; domain: DomainView }
  | { kind: 'domains'; domains: DomainView[] }
  | { kind: 'user'; user: UserView }
  | { kind: 'imported'; domain: string; imported: number }
  | { kind: 'users'; users: UserView[] }
  | { kind: 'cdrs'; cdrs: CdrView[] }
  | { kind: 'activation'; activation: ActivationView }
  | DirectoryResult
  | DeviceResult;

/** Validates an untrusted command (e.g. a request body); throws INVALID_INPUT naming the problem. */
export function parseAdminCommand(input: unknown): AdminCommand {
  const parsed = adminCommandSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new DirectoryError('INVALID_INPUT', `invalid admin command: ${where}${issue?.message ?? 'malformed'}`);
}

/** Runs one administrative command against the directory (the CLI's local path and the server's admin route). */
export async function executeAdminCommand(ctx: AdminContext, command: AdminCommand): Promise<AdminResult> {
  const { directory } = ctx;
  switch (command.command) {
    case 'domains.add': {
      const d = await directory.addDomain(command.args.domain, { name: command.args.name });
      return {
        kind: 'domain',
        domain: { domain: d.domain, name: d.name, active: d.active, createdAt: d.createdAt.toISOString() },
      };
    }
    case 'domains.list':
      return { kind: 'domains', domains: (await directory.listDomains()).map(domainView) };
    case 'users.add': {
      const u = await directory.addUser(command.args);
      return { kind: 'user', user: userView(u) };
    }
    case 'users.import': {
      const { imported } = await directory.importUsers(command.args.domain, command.args.csv);
      return { kind: 'imported', domain: command.args.domain.trim().toLowerCase(), imported };
    }
    case 'users.list':
      return { kind: 'users', users: (await directory.listUsers({ domain: command.args.domain })).map(userView) };
    case 'users.create':
    case 'groups.add':
    case 'groups.list':
    case 'groups.members':
    case 'tokens.create':
    case 'superadmin.create':
    case 'db.migrate':
      return executeDirectoryCommand(ctx.services, command);
    case 'devices.add':
    case 'devices.list':
    case 'devices.resync':
    case 'settings.set':
    case 'settings.get':
    case 'settings.list':
      return executeDeviceCommand({ services: ctx.services, desk: ctx.desk, running: ctx.running ?? false }, command);
    case 'activations.create': {
      if (!ctx.activations) throw new DirectoryError('INVALID_INPUT', 'provisioning is not available in this process');
      const c = await ctx.activations.create(CLI_PRINCIPAL, command.args.domain, command.args.ext);
      return {
        kind: 'activation',
        activation: {
          ext: c.ext,
          domain: c.domain,
          qrText: c.qrText,
          expiresAt: c.expiresAt.toISOString(),
          windowsLink: c.windowsLink,
          pngBase64: c.png.toString('base64'),
        },
      };
    }
    case 'cdrs.list': {
      const rows = await ctx.cdrs.list({ domain: command.args.domain, limit: command.args.limit });
      return {
        kind: 'cdrs',
        cdrs: rows.map((c) => ({
          ...c,
          startedAt: c.startedAt.toISOString(),
          answeredAt: c.answeredAt?.toISOString(),
          endedAt: c.endedAt.toISOString(),
        })),
      };
    }
  }
}

function domainView(d: DomainSummary): DomainView {
  return {
    domain: d.domain,
    name: d.name,
    active: d.active,
    userCount: d.userCount,
    createdAt: d.createdAt.toISOString(),
  };
}

function userView(u: User): UserView {
  return {
    ext: u.ext,
    domain: u.domain,
    name: u.name,
    email: u.email,
    active: u.active,
    createdAt: u.createdAt.toISOString(),
  };
}
