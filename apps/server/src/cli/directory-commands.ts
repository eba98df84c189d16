/**
 * CLI commands over the principal-checked directory services (run as the local operator,
 * CLI_PRINCIPAL): users with the full model, groups, API tokens, superadmins. They go through
 * POST /internal/admin when a server holds the database, exactly like the older commands.
 */
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { MIGRATIONS } from '../store/migrations.js';

const str = z.string().max(1 << 10);
const optional = str.optional();

/** The command schemas (joined into the admin command union). */
export const directoryCommandSchemas = [
  z.object({
    command: z.literal('users.create'),
    args: z.object({
      domain: str,
      ext: str,
      password: str,
      name: optional,
      email: optional,
      role: z.enum(['owner', 'admin', 'agent']).optional(),
      loginPassword: optional,
      phone: optional,
    }),
  }),
  z.object({
    command: z.literal('groups.add'),
    args: z.object({
      domain: str,
      ext: str,
      name: str,
      strategy: z.enum(['simultaneous', 'sequential']).optional(),
      ringTimeoutS: z.number().int().optional(),
    }),
  }),
  z.object({ command: z.literal('groups.list'), args: z.object({ domain: optional }).default({}) }),
  z.object({
    command: z.literal('groups.members'),
    args: z.object({ domain: str, ext: str, members: z.array(str).max(500) }),
  }),
  z.object({ command: z.literal('tokens.create'), args: z.object({ email: str, name: optional }) }),
  z.object({ command: z.literal('superadmin.create'), args: z.object({ email: str, password: str, name: optional }) }),
  z.object({ command: z.literal('db.migrate'), args: z.object({}).default({}) }),
] as const;

/** One of the commands above. */
export type DirectoryCommand = z.infer<(typeof directoryCommandSchemas)[number]>;

/** A group in a command result. */
export interface GroupView {
  ext: string;
  domain: string;
  name: string;
  strategy: string;
  ringTimeoutS: number;
  active: boolean;
  members: string[];
}

/** Results of the commands above. */
export type DirectoryResult =
  | { kind: 'group'; group: GroupView }
  | { kind: 'groups'; groups: GroupView[] }
  | { kind: 'token'; email: string; token: string; prefix: string }
  | { kind: 'superadmin'; email: string }
  | { kind: 'migrated'; version: number };

/** A user created by `users.create`, in the shape of the older `users.add` result. */
export interface CreatedUserView {
  ext: string;
  domain: string;
  name: string | undefined;
  email: string | undefined;
  active: boolean;
  createdAt: string;
}

/** Runs one directory command as the local operator. */
export async function executeDirectoryCommand(
  services: DirectoryServices | undefined,
  command: DirectoryCommand,
): Promise<DirectoryResult | { kind: 'user'; user: CreatedUserView }> {
  if (!services) throw new DirectoryError('INVALID_INPUT', 'the directory services are not available in this process');
  const p = CLI_PRINCIPAL;
  switch (command.command) {
    case 'users.create': {
      const a = command.args;
      const u = await services.users.create(p, await services.domains.idOf(p, a.domain), {
        ext: a.ext,
        extPassword: a.password,
        ...(a.name === undefined ? {} : { name: a.name }),
        ...(a.email === undefined ? {} : { email: a.email }),
        ...(a.role === undefined ? {} : { role: a.role }),
        ...(a.loginPassword === undefined ? {} : { password: a.loginPassword }),
        ...(a.phone === undefined ? {} : { phone: a.phone }),
      });
      return {
        kind: 'user',
        user: {
          ext: u.ext,
          domain: u.domain,
          name: u.name,
          email: u.email,
          active: u.active,
          createdAt: u.createdAt.toISOString(),
        },
      };
    }
    case 'groups.add': {
      const a = command.args;
      const g = await services.groups.create(p, await services.domains.idOf(p, a.domain), {
        name: a.name,
        ext: a.ext,
        ...(a.strategy === undefined ? {} : { strategy: a.strategy }),
        ...(a.ringTimeoutS === undefined ? {} : { ringTimeoutS: a.ringTimeoutS }),
      });
      return { kind: 'group', group: { ...groupView(g), members: [] } };
    }
    case 'groups.list': {
      const domainId =
        command.args.domain === undefined ? undefined : await services.domains.idOf(p, command.args.domain);
      const page = await services.groups.list(p, { domainId, pageSize: 1000 });
      const groups: GroupView[] = [];
      for (const g of page.docs)
        groups.push({ ...groupView(g), members: await memberExts(services, g.domainId, g.members) });
      return { kind: 'groups', groups };
    }
    case 'groups.members': {
      const a = command.args;
      const domainId = await services.domains.idOf(p, a.domain);
      const group = (await services.groups.list(p, { domainId, keyword: a.ext, pageSize: 1000 })).docs.find(
        (g) => g.ext === a.ext,
      );
      if (!group) throw new DirectoryError('NOT_FOUND', `no group ${a.ext}@${a.domain}`);
      const ids: string[] = [];
      for (const ext of a.members) {
        const u = (await services.users.list(p, { domainId, keyword: ext, pageSize: 1000 })).docs.find(
          (x) => x.ext === ext,
        );
        if (!u) throw new DirectoryError('NOT_FOUND', `no user ${ext}@${a.domain}`);
        ids.push(u.id);
      }
      const g = await services.groups.setMembers(p, group.id, ids);
      return { kind: 'group', group: { ...groupView(g), members: a.members } };
    }
    case 'tokens.create': {
      const { token, record } = await services.tokens.createForEmail(p, command.args.email, command.args.name ?? 'cli');
      return { kind: 'token', email: record.ownerEmail ?? command.args.email, token, prefix: record.prefix };
    }
    case 'superadmin.create': {
      const s = await services.sessions.createSuperadmin(p, command.args);
      return { kind: 'superadmin', email: s.email };
    }
    case 'db.migrate':
      // Opening the store (here, or in the running server) applied every pending migration.
      return { kind: 'migrated', version: MIGRATIONS.at(-1)?.version ?? 0 };
  }
}

/** Renders a result for the terminal (`undefined` for kinds this module does not own). */
export function formatDirectoryResult(result: { kind: string }, json: boolean): string | undefined {
  const r = result as DirectoryResult;
  switch (r.kind) {
    case 'group':
      return json
        ? JSON.stringify(r.group, null, 2) + '\n'
        : `group ${r.group.ext}@${r.group.domain} (${r.group.strategy}): ${r.group.members.join(' ') || 'no members'}\n`;
    case 'groups':
      if (json) return JSON.stringify(r.groups, null, 2) + '\n';
      if (r.groups.length === 0) return 'no groups\n';
      return (
        r.groups
          .map(
            (g) =>
              `${g.ext}@${g.domain}  ${g.name}  ${g.strategy} ${g.ringTimeoutS}s  ${g.active ? 'active' : 'inactive'}  members: ${g.members.join(' ') || '-'}`,
          )
          .join('\n') + '\n'
      );
    case 'token':
      // The token alone on the last line, for scripts (`| tail -1`); it is shown only this once.
      return json
        ? JSON.stringify(r, null, 2) + '\n'
        : `API token for ${r.email} (shown only now; store it safely):\n${r.token}\n`;
    case 'superadmin':
      return json ? JSON.stringify(r, null, 2) + '\n' : `added superadmin ${r.email}\n`;
    case 'migrated':
      return json ? JSON.stringify(r, null, 2) + '\n' : `database schema is up to date (version ${r.version})\n`;
    default:
      return undefined;
  }
}

function groupView(g: {
  ext: string;
  domain: string;
  name: string;
  strategy: string;
  ringTimeoutS: number;
  active: boolean;
}): Omit<GroupView, 'members'> {
  return {
    ext: g.ext,
    domain: g.domain,
    name: g.name,
    strategy: g.strategy,
    ringTimeoutS: g.ringTimeoutS,
    active: g.active,
  };
}

async function memberExts(services: DirectoryServices, domainId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const users = await services.users.list(CLI_PRINCIPAL, { domainId, pageSize: 1000 });
  const byId = new Map(users.docs.map((u) => [u.id, u.ext]));
  return ids.map((id) => byId.get(id) ?? id);
}
