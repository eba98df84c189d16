/** Builds the adapters context over the directory services (called from main.ts). */
import type { Logger } from 'pino';
import type { SecretBox } from '../config/secret-box.js';
import type { TurnCredentials } from '../config/turn-credentials.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { Store } from '../store/store.js';
import { AdapterService, type AdapterServerInfo } from './adapter-service.js';
import { defineAdapterSettings, readAdapterSettings } from './adapter-settings.js';

/** What {@link createAdapters} needs. */
export interface AdapterWiring {
  store: Store;
  secrets: SecretBox;
  directory: DirectoryService;
  services: DirectoryServices;
  turn: TurnCredentials;
  publicHost: string;
  /** Bound SIP ports (known once the transports listen). */
  sipPorts: () => Partial<Record<'udp' | 'tcp' | 'tls', number>>;
  logger: Logger;
  /** Tests: a job without a result fails after this long (default 10 min). */
  resultTimeoutMs?: number | undefined;
  clock?: (() => number) | undefined;
}

/** Declares the `adapters.*` settings and builds the service; user changes reach live phones. */
export function createAdapters(w: AdapterWiring): AdapterService {
  defineAdapterSettings(w.services.settingsRegistry);
  const server: AdapterServerInfo = {
    host: () => w.publicHost,
    sipPort: (t) => w.sipPorts()[t],
    media: (user) => {
      const servers = w.turn.iceServersFor(user);
      const stun = servers.flatMap((s) => s.urls).find((u) => /^stun:/i.test(u));
      const turn = servers.find((s) => s.username !== undefined);
      return {
        stunServer: stun?.replace(/^stun:/i, '') ?? '',
        turnServer: turn?.urls[0]?.replace(/^turns?:/i, '') ?? '',
        turnUser: turn?.username ?? '',
        turnPassword: turn?.credential ?? '',
      };
    },
  };
  const service = new AdapterService({
    store: w.store,
    secrets: w.secrets,
    directory: {
      domainName: async (id) => {
        try {
          return (await w.services.domains.get(CLI_PRINCIPAL, id)).domain;
        } catch {
          return undefined;
        }
      },
      findUser: async (domain, ext) => {
        const u = await w.directory.findActiveUser(domain, ext);
        return u ? { id: u.id, name: u.name } : undefined;
      },
      sipCredentials: (domain, ext) => w.directory.getSipCredentials(domain, ext),
    },
    settings: (domainId) => readAdapterSettings(w.services.settings, domainId),
    audit: w.services.audit,
    server,
    logger: w.logger.child({ component: 'adapters' }),
    resultTimeoutMs: w.resultTimeoutMs,
    clock: w.clock,
  });
  w.services.events.on('change', (c) => {
    if (c.type === 'user.updated' || c.type === 'user.deleted') void service.userChanged(c.id);
  });
  // Changes made through the CLI (DirectoryService) name only the domain.
  w.directory.onChange(() => service.refreshAll());
  return service;
}
