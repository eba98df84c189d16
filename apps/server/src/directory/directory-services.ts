import type { SecretBox } from '../config/secret-box.js';
import type { Store } from '../store/store.js';
import { AuditLog } from './audit-log.js';
import { CdrSearchService } from './cdr-search-service.js';
import { ContactService } from './contact-service.js';
import { DirectoryEvents } from './directory-events.js';
import { DomainService } from './domain-service.js';
import { GroupService } from './group-service.js';
import { SessionService, type SessionServiceOptions } from './session-service.js';
import { SettingsRegistry } from './settings-registry.js';
import { SettingsService } from './settings-service.js';
import { TokenService } from './token-service.js';
import { UserService, type Mailer } from './user-service.js';

/** The principal-checked directory services, built over one store. */
export interface DirectoryServices {
  readonly events: DirectoryEvents;
  readonly audit: AuditLog;
  readonly domains: DomainService;
  readonly users: UserService;
  readonly groups: GroupService;
  readonly contacts: ContactService;
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly settingsRegistry: SettingsRegistry;
  readonly settings: SettingsService;
  readonly cdrs: CdrSearchService;
}

/** Options of {@link createDirectoryServices}. */
export interface DirectoryServicesOptions {
  mailer?: Mailer | undefined;
  /** Shared with features that define their settings (default: a new, empty registry). */
  settingsRegistry?: SettingsRegistry;
  events?: DirectoryEvents;
  sessions?: SessionServiceOptions;
  clock?: () => number;
}

/** Wires the directory services (the composition root, the CLI and tests call this). */
export function createDirectoryServices(
  store: Store,
  secrets: SecretBox,
  o: DirectoryServicesOptions = {},
): DirectoryServices {
  const events = o.events ?? new DirectoryEvents();
  const audit = new AuditLog(store);
  const settingsRegistry = o.settingsRegistry ?? new SettingsRegistry();
  const sessions = new SessionService(store, audit, { clock: o.clock, ...o.sessions });
  return {
    events,
    audit,
    domains: new DomainService(store, events, audit),
    users: new UserService(store, secrets, events, audit, {
      mailer: o.mailer,
      onLoginPasswordReset: (email) => sessions.forgetFailures(email),
    }),
    groups: new GroupService(store, events, audit),
    contacts: new ContactService(store, events, audit),
    tokens: new TokenService(store, audit, o.clock),
    sessions,
    settingsRegistry,
    settings: new SettingsService(store, settingsRegistry, audit),
    cdrs: new CdrSearchService(store),
  };
}
