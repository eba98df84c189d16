import type { DirectoryService } from '../directory/directory-service.js';
import type { ExtensionRef, ProvisioningDirectory } from './provisioning-ports.js';

/** How long a found domain is remembered (an app fleet re-provisioning names the same few). */
export const DOMAIN_CACHE_MS = 5000;
const DOMAIN_CACHE_LIMIT = 10_000;

/**
 * Provisioning's view of the directory, over DirectoryService's public methods only. An extension
 * is one indexed look-up; listing them reads the domain's users (the console's list). Found
 * domains are remembered for {@link DOMAIN_CACHE_MS} (and forgotten on every directory change), so
 * a deactivated domain stops provisioning within that time; unknown names are never remembered.
 * The hot path, re-provisioning, then makes one credentials query per line.
 */
export function directoryAdapter(
  directory: Pick<
    DirectoryService,
    'getDomain' | 'findActiveUser' | 'listUsers' | 'listDomains' | 'getSipCredentials'
  > &
    Partial<Pick<DirectoryService, 'onChange' | 'listSipCredentials'>>,
  clock: () => number = Date.now,
): ProvisioningDirectory {
  const domains = new Map<string, { until: number; value: { id: string; domain: string } }>();
  directory.onChange?.(() => domains.clear());
  const listExtensions = async (domain: string): Promise<ExtensionRef[]> => {
    const d = await directory.getDomain(domain);
    if (!d?.active) return [];
    const users = await directory.listUsers({ domain: d.domain });
    return users
      .filter((u) => u.active)
      .map((u) => ({ userId: u.id, domainId: d.id, domain: d.domain, ext: u.ext, name: u.name }));
  };
  return {
    async findDomain(domain) {
      const now = clock();
      const hit = domains.get(domain);
      if (hit && hit.until > now) return hit.value;
      const d = await directory.getDomain(domain);
      if (!d?.active) {
        domains.delete(domain);
        return undefined;
      }
      if (domains.size >= DOMAIN_CACHE_LIMIT) domains.clear();
      const value = { id: d.id, domain: d.domain };
      domains.set(domain, { until: now + DOMAIN_CACHE_MS, value });
      return value;
    },
    async findExtension(domain, ext) {
      const u = await directory.findActiveUser(domain, ext);
      return u && { userId: u.id, domainId: u.domainId, domain: u.domain, ext: u.ext, name: u.name };
    },
    async listExtensions(domainId) {
      const d = (await directory.listDomains()).find((x) => x.id === domainId);
      return d ? listExtensions(d.domain) : [];
    },
    async getSipPassword(domain, ext) {
      return (await directory.getSipCredentials(domain, ext))?.password;
    },
    async listSipAccounts() {
      if (!directory.listSipCredentials) return [];
      const { credentials } = await directory.listSipCredentials();
      return credentials.map((c) => ({
        domain: c.domain,
        ext: c.ext,
        password: c.password,
        displayName: c.displayName,
      }));
    },
    async getSipAccount(domain, ext) {
      const c = await directory.getSipCredentials(domain, ext);
      return c && { password: c.password, displayName: c.displayName };
    },
  };
}
