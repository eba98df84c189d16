import type { Logger } from 'pino';
import type { SettingsRegistry } from '../directory/settings-registry.js';
import type { SettingsService } from '../directory/settings-service.js';
import {
  SESSIONTALK_SETTINGS,
  checkSessionTalkSettings,
  SettingsValueError,
  resolveSessionTalkSettings,
  type ProvisioningSettings,
  type SessionTalkSettingKey,
  type SessionTalkSettings,
} from './sessiontalk-settings.js';

/** Declares every `sessiontalk.*` key in the settings registry. */
export function defineSessionTalkSettings(registry: SettingsRegistry, server: { sipTls?: boolean } = {}): void {
  for (const [key, def] of Object.entries(SESSIONTALK_SETTINGS)) registry.define<unknown>(key, def);
  // A server without TLS would hand new apps a line they cannot register with.
  if (server.sipTls === false) {
    registry.rule({
      keys: ['sessiontalk.transport'],
      check: (read) =>
        read('sessiontalk.transport') === 'tls'
          ? 'cannot be tls while SIP over TLS is off (set HANDSET_TLS_CERT and HANDSET_TLS_KEY, or HANDSET_TLS=self-signed)'
          : undefined,
    });
  }
  registry.rule({
    keys: ['sessiontalk.qr_expiration', 'sessiontalk.key_rotation'],
    check(read) {
      try {
        checkSessionTalkSettings({
          qrExpirationS: read('sessiontalk.qr_expiration') as number,
          keyRotationS: read('sessiontalk.key_rotation') as number,
        });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
}

/**
 * Provisioning settings read through the settings service, cached per domain for `ttlMs` (an app
 * fleet re-provisioning at once would otherwise read every key for every request). The registry
 * checks keys one at a time; when the stored pair breaks the rule across keys (qr_expiration
 * above key_rotation) codes are issued for key_rotation at most and the conflict is logged.
 */
export class RegistryProvisioningSettings implements ProvisioningSettings {
  readonly #cache = new Map<string, { at: number; value: Promise<SessionTalkSettings> }>();

  constructor(
    private readonly service: Pick<SettingsService, 'get'>,
    private readonly logger: Logger,
    private readonly ttlMs = 5000,
    private readonly clock: () => number = Date.now,
  ) {}

  get(domainId: string): Promise<SessionTalkSettings> {
    const now = this.clock();
    const hit = this.#cache.get(domainId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (this.#cache.size > 10_000) this.#cache.clear();
    const value = this.#load(domainId);
    this.#cache.set(domainId, { at: now, value });
    value.catch(() => this.#cache.delete(domainId));
    return value;
  }

  async #load(domainId: string): Promise<SessionTalkSettings> {
    const keys = Object.keys(SESSIONTALK_SETTINGS) as SessionTalkSettingKey[];
    const values = new Map<string, unknown>();
    for (const key of keys) values.set(key, await this.service.get(key, domainId));
    try {
      return resolveSessionTalkSettings((k) => values.get(k));
    } catch (err) {
      if (!(err instanceof SettingsValueError)) throw err;
      this.logger.warn({ domainId, err: err.message }, 'sessiontalk settings conflict; codes limited to key_rotation');
      values.set('sessiontalk.qr_expiration', values.get('sessiontalk.key_rotation'));
      return resolveSessionTalkSettings((k) => values.get(k));
    }
  }
}
