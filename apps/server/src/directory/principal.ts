/**
 * Who is acting: the authenticated caller of a service method (API session, API token or CLI).
 * Every directory service method that reads or changes tenant data takes one and enforces the
 * rights below itself, so a route that forgets a check still cannot leak another tenant's data.
 */

/** Roles, most powerful first. `superadmin` is a system role with no domain. */
export const ROLES = ['superadmin', 'owner', 'admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated actor. */
export interface Principal {
  /** The user acting, or undefined for the local CLI (which acts as superadmin). */
  readonly userId: string | undefined;
  readonly email: string | undefined;
  readonly role: Role;
  /** The actor's tenant; undefined only for superadmin. */
  readonly domainId: string | undefined;
  readonly domain: string | undefined;
  /** How the actor authenticated (for the audit log). */
  readonly via: 'session' | 'token' | 'cli';
  /** The API token's id when `via` is 'token'. */
  readonly tokenId?: string | undefined;
}

/** The local operator: the CLI and the server's own admin route act as this. */
export const CLI_PRINCIPAL: Principal = {
  userId: undefined,
  email: undefined,
  role: 'superadmin',
  domainId: undefined,
  domain: undefined,
  via: 'cli',
};
