import { DirectoryError } from '../directory/directory-error.js';
import { directoryRights as rights } from '../directory/directory-rights.js';
import type { Principal } from '../directory/principal.js';

/** A principal that is a user of a domain (an agent, admin or owner with a SIP line). */
export type DomainUser = Principal & { userId: string; domainId: string };

/**
 * Rights of the agent tools, on top of the directory's: owners and admins manage campaigns,
 * buttons, forms and scripts of their domain (a superadmin of any); agents read buttons and
 * forms of their domain and work the campaigns they are members of. Another domain's records
 * answer "no such ..." (404), never 403, so ids of other tenants reveal nothing.
 */
export const agentAccess = {
  /** Throws unless `p` may manage the agent tools of `domainId`. */
  requireManager(p: Principal, domainId: string, what: string): void {
    if (!rights.inDomain(p, domainId)) throw DirectoryError.notFound(what);
    rights.requireManager(p, domainId);
  },

  /** Throws NOT_FOUND unless `p` acts in `domainId`. */
  requireInDomain(p: Principal, domainId: string, what: string): void {
    if (!rights.inDomain(p, domainId)) throw DirectoryError.notFound(what);
  },

  /** The caller as a user of a domain: agent actions need a SIP line (a superadmin has none). */
  domainUser(p: Principal): DomainUser {
    if (p.userId === undefined || p.domainId === undefined)
      throw new DirectoryError('FORBIDDEN', 'agent actions need a user of a domain (this token has no SIP line)');
    return p as DomainUser;
  },

  /** The domain a manager's list or create acts in: its own, or (superadmin) the one it names. */
  domainFor(p: Principal, requested: string | undefined): string {
    const d = rights.scopeDomain(p, requested);
    if (d === undefined) throw DirectoryError.validation({ domainId: 'a superadmin names the domain (domainId)' });
    return d;
  },

  isManager: rights.isManager,
};
