import {
  parseSessionTalkSetting,
  resolveSessionTalkSettings,
  type ProvisioningSettings,
  type SessionTalkSettingKey,
  type SessionTalkSettings,
} from './sessiontalk-settings.js';

/**
 * Settings held in memory: server-wide values and per-domain overrides over the defaults. Stands
 * in for the settings registry where that is not wired (tests, and until the registry exists).
 * Every `set` is checked by itself and across keys before it takes effect.
 */
export class MemoryProvisioningSettings implements ProvisioningSettings {
  readonly #global = new Map<string, unknown>();
  readonly #domains = new Map<string, Map<string, unknown>>();

  /** Sets `key` server-wide, or for one domain; throws SettingsValueError and changes nothing when refused. */
  set(key: SessionTalkSettingKey, value: unknown, domainId?: string): void {
    const normalized = parseSessionTalkSetting(key, value);
    const target = domainId === undefined ? this.#global : (this.#domains.get(domainId) ?? new Map<string, unknown>());
    const previous = target.get(key);
    const had = target.has(key);
    target.set(key, normalized);
    try {
      // A server-wide change must hold for every domain that overrides nothing of it.
      for (const d of domainId === undefined ? [undefined, ...this.#domains.keys()] : [domainId])
        this.#resolve(d, target, domainId);
    } catch (err) {
      if (had) target.set(key, previous);
      else target.delete(key);
      throw err;
    }
    if (domainId !== undefined) this.#domains.set(domainId, target);
  }

  /** Removes a domain override (or a server-wide value). */
  unset(key: SessionTalkSettingKey, domainId?: string): void {
    (domainId === undefined ? this.#global : this.#domains.get(domainId))?.delete(key);
  }

  get(domainId: string): Promise<SessionTalkSettings> {
    return Promise.resolve(this.#resolve(domainId));
  }

  #resolve(domainId: string | undefined, pending?: Map<string, unknown>, pendingDomain?: string): SessionTalkSettings {
    const own = domainId === undefined ? undefined : domainId === pendingDomain ? pending : this.#domains.get(domainId);
    return resolveSessionTalkSettings((key) => (own?.has(key) ? own.get(key) : this.#global.get(key)));
  }
}
