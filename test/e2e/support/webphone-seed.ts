import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../../../apps/server/dist/config/secret-box.js';
import { createDirectoryServices } from '../../../apps/server/dist/directory/directory-services.js';
import { CLI_PRINCIPAL } from '../../../apps/server/dist/directory/principal.js';
import { openStore } from '../../../apps/server/dist/store/open-store.js';

/** A web phone user to create: extension, sign-in e-mail, password (login and SIP) and name. */
export interface SeedUser {
  domain: string;
  ext: string;
  email: string;
  password: string;
  name: string;
  role?: 'owner' | 'admin' | 'agent';
}

/** A data directory holding seeded tenants, and the env that makes Handset use it and its key. */
export interface SeededData {
  dataDir: string;
  env: Record<string, string>;
}

/**
 * Creates domains and users with sign-in passwords in a fresh PGlite data directory, through the
 * built server's own directory services, before Handset starts on it (PGlite is single-process;
 * the CLI's import sets SIP passwords only). The server gets the same key by HANDSET_SECRET_KEY.
 */
export async function seedWebphoneUsers(users: readonly SeedUser[]): Promise<SeededData> {
  const dataDir = await mkdtemp(join(tmpdir(), 'handset-webphone-'));
  const key = randomBytes(32);
  const store = await openStore({ database: { kind: 'pglite', dir: join(dataDir, 'db') } });
  try {
    const services = createDirectoryServices(store, new SecretBox(key));
    const domains = new Map<string, string>();
    for (const u of users) {
      let domainId = domains.get(u.domain);
      if (!domainId) {
        domainId = (await services.domains.create(CLI_PRINCIPAL, { domain: u.domain })).id;
        domains.set(u.domain, domainId);
      }
      await services.users.create(CLI_PRINCIPAL, domainId, {
        ext: u.ext,
        extPassword: u.password,
        email: u.email,
        name: u.name,
        password: u.password,
        role: u.role ?? 'agent',
      });
    }
  } finally {
    await store.close();
  }
  return { dataDir, env: { HANDSET_DATA_DIR: dataDir, HANDSET_SECRET_KEY: key.toString('hex') } };
}
