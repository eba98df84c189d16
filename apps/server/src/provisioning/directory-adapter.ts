import type { DirectoryService } from '../directory/directory-service.js';
import type { ExtensionRef, ProvisioningDirectory } from './provisioning-ports.js';

/**
 * Provisioning's view of the directory, over DirectoryService's public methods only. Extension
 * look-ups list the domain's users (activations are rare); the hot path, re-provisioning, makes
 * one credentials query per line.
 */
export function directoryAdapter(directory: DirectoryService): ProvisioningDirectory {
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
      const d = await directory.getDomain(domain);
      return d?.active ? { id: d.id, domain: d.domain } : undefined;
    },
    async findExtension(domain, ext) {
      return (await listExtensions(domain)).find((e) => e.ext === ext);
    },
    async listExtensions(domainId) {
      const d = (await directory.listDomains()).find((x) => x.id === domainId);
      return d ? listExtensions(d.domain) : [];
    },
    async getSipPassword(domain, ext) {
      return (await directory.getSipCredentials(domain, ext))?.password;
    },
  };
}
