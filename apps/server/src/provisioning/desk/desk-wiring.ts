/** Wires the desk-phone part of provisioning over one store (main.ts and the CLI call this). */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { SettingsService } from '../../directory/settings-service.js';
import type { Store } from '../../store/store.js';
import type { ProvisioningAudit, ProvisioningDirectory } from '../provisioning-ports.js';
import { CheckSyncNotifier } from './check-sync-notifier.js';
import { DeskFileServer } from './desk-file-server.js';
import { DeskPhoneCatalog } from './desk-phone-catalog.js';
import { DeskPhoneRepository } from './desk-phone-repository.js';
import { DeskPhoneService } from './desk-phone-service.js';
import { DeskSettings } from './desk-settings.js';
import { HttpDigest } from './http-digest.js';

/** What {@link createDeskPhones} builds on. */
export interface DeskPhonesOptions {
  store: Store;
  directory: ProvisioningDirectory;
  /** Reads `provisioning.*` (defined in its registry with defineDeskSettings). */
  settingsService: Pick<SettingsService, 'get'>;
  audit: ProvisioningAudit;
  logger: Logger;
  /** Base URL phones reach Handset at. */
  publicUrl: string;
  /** The 32-byte server key; the digest nonce key is derived from it (every node agrees). */
  serverKey: Uint8Array;
}

/** The desk-phone context, wired. */
export interface DeskPhones {
  readonly repository: DeskPhoneRepository;
  readonly catalog: DeskPhoneCatalog;
  readonly settings: DeskSettings;
  readonly notifier: CheckSyncNotifier;
  readonly service: DeskPhoneService;
  readonly files: DeskFileServer;
  /** Loads the phones into memory. */
  start(): Promise<void>;
  /** Writes pending contacts. */
  close(): Promise<void>;
}

/** Builds repository, catalog, settings, notifier, service and file server. */
export function createDeskPhones(o: DeskPhonesOptions): DeskPhones {
  const logger = o.logger.child({ component: 'desk-phones' });
  const repository = new DeskPhoneRepository(o.store);
  const catalog = new DeskPhoneCatalog({
    repository,
    credentials: (domain, ext) => o.directory.getSipAccount(domain, ext),
    allCredentials: o.directory.listSipAccounts && (() => o.directory.listSipAccounts!()),
    logger,
  });
  const settings = new DeskSettings(o.settingsService, logger);
  const notifier = new CheckSyncNotifier(logger);
  const service = new DeskPhoneService({
    repository,
    catalog,
    directory: o.directory,
    settings,
    notifier,
    audit: o.audit,
    logger,
  });
  const digestKey = createHmac('sha256', Buffer.from(o.serverKey)).update('handset provisioning http digest').digest();
  const files = new DeskFileServer({
    catalog,
    settings,
    directory: o.directory,
    digest: new HttpDigest(digestKey),
    publicUrl: o.publicUrl,
    insertPending: (domainId, mac, vendor, model) => service.insertPending(domainId, mac, vendor, model),
    logger,
  });
  return {
    repository,
    catalog,
    settings,
    notifier,
    service,
    files,
    start: () => catalog.start(),
    close: () => catalog.close(),
  };
}
