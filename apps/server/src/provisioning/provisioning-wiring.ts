import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import { AuditLog } from '../directory/audit-log.js';
import type { DirectoryService } from '../directory/directory-service.js';
import { SettingsRegistry } from '../directory/settings-registry.js';
import { SettingsService } from '../directory/settings-service.js';
import type { Store } from '../store/store.js';
import { ActivationCodeService } from './activation-code-service.js';
import { ActivationCodec } from './activation-codec.js';
import { DeviceRepository } from './device-repository.js';
import { DeviceService } from './device-service.js';
import { directoryAdapter } from './directory-adapter.js';
import type { ProvisioningAudit, ProvisioningDirectory, SrvResolver } from './provisioning-ports.js';
import { ProvisioningService } from './provisioning-service.js';
import { RegistryProvisioningSettings, defineSessionTalkSettings } from './registry-provisioning-settings.js';
import type { ProvisioningSettings, SessionTalkTransport } from './sessiontalk-settings.js';

/** What {@link createProvisioning} builds on. */
export interface ProvisioningWiringOptions {
  store: Store;
  directory: DirectoryService;
  /** The 32-byte server key; activation keys are derived from it. */
  serverKey: Uint8Array;
  settings: ProvisioningSettings;
  audit: ProvisioningAudit;
  logger: Logger;
  /** Base URL apps reach Handset at, e.g. `https://pbx.example.com`. */
  publicUrl: string;
  sipPorts?: Partial<Record<SessionTalkTransport, number>>;
  resolveSrv?: SrvResolver;
  clock?: () => number;
}

/** The provisioning context, wired (the composition root and the CLI call this). */
export interface Provisioning {
  readonly directory: ProvisioningDirectory;
  readonly settings: ProvisioningSettings;
  readonly repository: DeviceRepository;
  readonly service: ProvisioningService;
  readonly codes: ActivationCodeService;
  readonly devices: DeviceService;
}

/** Wires codec, repository and services over one store. */
export function createProvisioning(o: ProvisioningWiringOptions): Provisioning {
  const directory = directoryAdapter(o.directory);
  const repository = new DeviceRepository(o.store);
  const codec = new ActivationCodec(o.serverKey);
  const common = { directory, settings: o.settings, audit: o.audit };
  return {
    directory,
    settings: o.settings,
    repository,
    service: new ProvisioningService({
      ...common,
      devices: repository,
      codec,
      logger: o.logger.child({ component: 'provisioning' }),
      clock: o.clock,
      sipPorts: o.sipPorts,
      resolveSrv: o.resolveSrv,
    }),
    codes: new ActivationCodeService({ ...common, codec, devices: repository, publicUrl: o.publicUrl, clock: o.clock }),
    devices: new DeviceService({ ...common, devices: repository }),
  };
}

/**
 * The URL apps reach Handset at: HTTPS on the public host when TLS is on (the default port
 * left out), else HTTP. SessionTalk's cloud calls it; the Windows link points into it.
 */
export function publicUrlOf(config: Pick<ServerConfig, 'publicHost' | 'tls' | 'httpPort' | 'httpsPort'>): string {
  const host = config.publicHost.includes(':') ? `[${config.publicHost}]` : config.publicHost;
  if (config.tls) return `https://${host}${config.httpsPort === 443 ? '' : `:${config.httpsPort}`}`;
  return `http://${host}${config.httpPort === 80 ? '' : `:${config.httpPort}`}`;
}

/**
 * Provisioning with its own audit log and settings over the store (the `sessiontalk.*` keys
 * defined in `registry`, or in a new registry): for the CLI, and for the server until the
 * directory services are wired there too (then pass their registry, settings and audit).
 */
export function createStandaloneProvisioning(
  o: Omit<ProvisioningWiringOptions, 'settings' | 'audit'> & { registry?: SettingsRegistry },
): Provisioning & { settingsRegistry: SettingsRegistry; settingsService: SettingsService } {
  const audit = new AuditLog(o.store);
  const settingsRegistry = o.registry ?? new SettingsRegistry();
  defineSessionTalkSettings(settingsRegistry);
  const settingsService = new SettingsService(o.store, settingsRegistry, audit);
  const settings = new RegistryProvisioningSettings(settingsService, o.logger);
  return { ...createProvisioning({ ...o, settings, audit }), settingsRegistry, settingsService };
}
