/** Test helper: a provisioning stack over a real store and directory, with a settable clock. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { SecretBox } from '../config/secret-box.js';
import { AuditLog } from '../directory/audit-log.js';
import { DirectoryService } from '../directory/directory-service.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { DatabaseConfig } from '../config/server-config.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { ActivationCodeService } from './activation-code-service.js';
import { ActivationCodec } from './activation-codec.js';
import { DeviceRepository } from './device-repository.js';
import { DeviceService } from './device-service.js';
import { directoryAdapter } from './directory-adapter.js';
import { MemoryProvisioningSettings } from './memory-provisioning-settings.js';
import { ProvisioningService, type ProvisionRequest, type SessionTalkAccount } from './provisioning-service.js';

/** A provisioning stack for tests. */
export interface ProvisioningWorld {
  store: Store;
  directory: DirectoryService;
  audit: AuditLog;
  settings: MemoryProvisioningSettings;
  codec: ActivationCodec;
  devices: DeviceRepository;
  service: ProvisioningService;
  codes: ActivationCodeService;
  deviceService: DeviceService;
  /** Milliseconds; tests move it. */
  now: { ms: number };
  /** Adds a domain with users 1001 and 1002 (password `pw-<ext>`); returns its id. */
  addDomain(domain: string, exts?: string[]): Promise<string>;
  /** A code for ext@domain under the domain's current settings. */
  issue(domain: string, ext: string): Promise<{ token: string; codeId: string; expiresAt: number }>;
  /** Calls the service with defaults for the request's other fields. */
  provision(
    r: Partial<ProvisionRequest> & Pick<ProvisionRequest, 'token' | 'appDeviceId'>,
  ): ReturnType<ProvisioningService['provision']>;
  /** Audit entries of a domain, oldest first. */
  auditOf(
    domainId: string,
  ): Promise<Array<{ action: string; resource: string; detail: Record<string, unknown> | undefined }>>;
  close(): Promise<void>;
}

/** Builds a {@link ProvisioningWorld} on the given database. */
export async function provisioningWorld(database: DatabaseConfig): Promise<ProvisioningWorld> {
  const store = await openStore({ database });
  const directory = new DirectoryService(store, new SecretBox(randomBytes(32)));
  await directory.verifySecretKey();
  const audit = new AuditLog(store);
  const settings = new MemoryProvisioningSettings();
  const codec = new ActivationCodec(randomBytes(32));
  const devices = new DeviceRepository(store);
  const now = { ms: Date.UTC(2026, 11, 1) };
  const adapter = directoryAdapter(directory);
  const service = new ProvisioningService({
    devices,
    codec,
    directory: adapter,
    settings,
    audit,
    logger: pino({ level: 'silent' }),
    clock: () => now.ms,
  });
  const codes = new ActivationCodeService({
    codec,
    devices,
    directory: adapter,
    settings,
    audit,
    publicUrl: 'https://pbx.test',
    clock: () => now.ms,
  });
  const deviceService = new DeviceService({ devices, directory: adapter, settings, audit });
  const ids = new Map<string, string>();
  return {
    codes,
    deviceService,
    store,
    directory,
    audit,
    settings,
    codec,
    devices,
    service,
    now,
    async addDomain(domain, exts = ['1001', '1002']) {
      const d = await directory.addDomain(domain);
      for (const ext of exts) await directory.addUser({ domain, ext, password: `pw-${ext}`, name: `User ${ext}` });
      ids.set(domain, d.id);
      return d.id;
    },
    async issue(domain, ext) {
      const domainId = ids.get(domain)!;
      const s = await settings.get(domainId);
      return codec.issue({
        domainId,
        ext,
        nowS: Math.floor(now.ms / 1000),
        lifetimeS: s.qrExpirationS,
        periodS: s.keyRotationS,
      });
    },
    provision(r) {
      return service.provision({ ext: '1001', domain: 'acme.example', reprovision: false, ip: '192.0.2.10', ...r });
    },
    async auditOf(domainId) {
      const page = await audit.list(CLI_PRINCIPAL, { domainId, pageSize: 1000 });
      return page.docs
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .map((e) => ({ action: e.action, resource: e.resource, detail: e.detail }));
    },
    close: () => store.close(),
  };
}

/** The account a test user (password `pw-<ext>`) gets with the default settings. */
export function sessionTalkAccount(ext: string, subdomain: string): SessionTalkAccount {
  return {
    sipusername: ext,
    sippassword: `pw-${ext}`,
    subdomain,
    authusername: ext,
    transport: 'UDP',
    srtp: 'Disabled',
    messaging: 'Disabled',
    video: 'Disabled',
    callrecording: 'Disabled',
  };
}
