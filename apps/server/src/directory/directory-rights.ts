import { DirectoryError } from './directory-error.js';
import type { Principal } from './principal.js';

/**
 * What a role may touch. Every service calls these before reading or writing tenant data, so the
 * rules hold whatever route (REST, client API, CLI) calls the service:
 * superadmin: everything; owner: everything in the own domain (incl. settings and tokens);
 * admin: users, groups, contacts (and devices) in the own domain; agent: only self.
 */
export const directoryRights = {
  /** Throws unless the principal is a superadmin. */
  requireSuperadmin(p: Principal): void {
    if (p.role !== 'superadmin') throw DirectoryError.forbidden('only a superadmin may do this');
  },

  /** True when the principal acts in `domainId` (superadmin: any domain). */
  inDomain(p: Principal, domainId: string): boolean {
    return p.role === 'superadmin' || p.domainId === domainId;
  },

  /**
   * The domain a listing is limited to: the principal's own, or for a superadmin the one asked
   * for (undefined: all domains).
   */
  scopeDomain(p: Principal, requested?: string): string | undefined {
    if (p.role === 'superadmin') return requested;
    return p.domainId;
  },

  /** Users, groups, contacts: owner and admin of the domain (agents only themselves, checked by callers). */
  requireManager(p: Principal, domainId: string): void {
    if (p.role === 'superadmin') return;
    if (p.domainId !== domainId) throw DirectoryError.notFound('record');
    if (p.role !== 'owner' && p.role !== 'admin') throw DirectoryError.forbidden();
  },

  /** Settings, tokens of others, the domain itself, audit: owner of the domain. */
  requireOwner(p: Principal, domainId: string): void {
    if (p.role === 'superadmin') return;
    if (p.domainId !== domainId) throw DirectoryError.notFound('record');
    if (p.role !== 'owner') throw DirectoryError.forbidden('only the domain owner may do this');
  },

  /** True when the principal may manage users etc. of its domain (not only itself). */
  isManager(p: Principal): boolean {
    return p.role === 'superadmin' || p.role === 'owner' || p.role === 'admin';
  },

  /**
   * Roles a principal may give: nobody makes someone more powerful than themselves, and only an
   * owner (or superadmin) creates owners.
   */
  requireAssignableRole(p: Principal, role: 'owner' | 'admin' | 'agent'): void {
    if (p.role === 'superadmin' || p.role === 'owner') return;
    if (p.role === 'admin' && role !== 'owner') return;
    throw DirectoryError.forbidden(`you may not give the role ${role}`);
  },
};
