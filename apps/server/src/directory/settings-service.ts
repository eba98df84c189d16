import { eq, sql } from 'drizzle-orm';
import { domains, serverMeta } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit-log.js';
import { DirectoryError } from './directory-error.js';
import { directoryRights } from './directory-rights.js';
import type { Principal } from './principal.js';
import type { SettingScope, SettingsRegistry } from './settings-registry.js';

/** Server-wide overrides live in server_meta under this prefix; per-domain ones in domains.settings. */
const SERVER_PREFIX = 'setting:';

/** A setting as listed: its effective value and where that value comes from. */
export interface SettingView {
  key: string;
  value: unknown;
  default: unknown;
  source: 'default' | 'server' | 'domain';
  scope: SettingScope;
  description: string;
}

/**
 * Values of the settings in a {@link SettingsRegistry}: default < server-wide override <
 * per-domain override. Reads are rare (provisioning, web phone config) and go to the database,
 * so a change made by another node is seen at once.
 */
export class SettingsService {
  constructor(
    private readonly store: Store,
    private readonly registry: SettingsRegistry,
    private readonly audit?: AuditLog,
  ) {}

  /** Refuses a value that breaks a rule across keys, with the value in place of the current one. */
  async #checkRules(key: string, stored: unknown, domainId: string | undefined): Promise<void> {
    const rules = this.registry.rulesFor(key);
    if (rules.length === 0) return;
    const values = new Map<string, unknown>();
    for (const r of rules) for (const k of r.keys) if (!values.has(k)) values.set(k, await this.get(k, domainId));
    // Removing an override (null) falls back to the server value or the default.
    values.set(key, stored === null ? await this.#fallback(key, domainId) : stored);
    for (const r of rules) {
      const message = r.check((k) => values.get(k));
      if (message !== undefined) throw DirectoryError.validation({ [key]: message });
    }
  }

  /** What `key` would be without the override at this level. */
  async #fallback(key: string, domainId: string | undefined): Promise<unknown> {
    if (domainId === undefined) return this.registry.require(key).default;
    return this.get(key, undefined);
  }

  /** The effective value of `key` (for `domainId` when given). Throws NOT_FOUND for unknown keys. */
  async get<T = unknown>(key: string, domainId?: string): Promise<T> {
    const def = this.registry.require(key);
    const layers = await this.#overrides(domainId);
    const found = [layers.domain[key], layers.server[key]].find((v) => v !== undefined);
    // A stored value that no longer passes (the schema tightened) falls back to the default.
    const parsed = found === undefined ? undefined : def.schema.safeParse(found);
    return (parsed?.success ? parsed.data : def.default) as T;
  }

  /**
   * Sets an override: for a domain (owner of it, or superadmin) or server-wide (superadmin only,
   * when `domainId` is undefined). `value` null removes the override. A bad value is a VALIDATION
   * error (422) naming the problem.
   */
  async set(principal: Principal, key: string, value: unknown, domainId?: string): Promise<SettingView> {
    const def = this.registry.require(key);
    if (domainId === undefined) directoryRights.requireSuperadmin(principal);
    else {
      directoryRights.requireOwner(principal, domainId);
      if (def.scope === 'server')
        throw DirectoryError.validation({ [key]: 'this setting is server-wide and cannot be set per domain' });
    }
    let stored: unknown = null;
    if (value !== null) {
      const parsed = def.schema.safeParse(value);
      if (!parsed.success)
        throw DirectoryError.validation({ [key]: parsed.error.issues[0]?.message ?? 'invalid value' });
      stored = parsed.data;
    }
    await this.#checkRules(key, stored, domainId);
    const json = JSON.stringify(stored);
    // PostgreSQL's jsonb cannot hold U+0000.
    if (json.includes('\\u0000')) throw DirectoryError.validation({ [key]: 'must not contain NUL characters' });
    if (domainId === undefined) {
      const name = SERVER_PREFIX + key;
      if (stored === null) await this.store.db.delete(serverMeta).where(eq(serverMeta.name, name));
      else
        await this.store.db
          .insert(serverMeta)
          .values({ name, value: json })
          .onConflictDoUpdate({ target: serverMeta.name, set: { value: json } });
    } else {
      // One atomic statement, so concurrent changes of two keys cannot lose one another.
      const next =
        stored === null
          ? sql`${domains.settings} - ${key}::text`
          : sql`${domains.settings} || jsonb_build_object(${key}::text, ${json}::jsonb)`;
      const updated = await this.store.db
        .update(domains)
        .set({ settings: next })
        .where(eq(domains.id, domainId))
        .returning({ id: domains.id });
      if (updated.length === 0) throw DirectoryError.notFound('domain');
    }
    await this.audit?.record(principal, {
      action: stored === null ? 'reset' : 'update',
      resource: 'setting',
      resourceId: key,
      domainId,
      detail: { value: stored },
    });
    const views = await this.#views(domainId);
    return views.find((v) => v.key === key)!;
  }

  /** Every known setting with its effective value for `domainId` (or server-wide). */
  async list(principal: Principal, domainId?: string): Promise<SettingView[]> {
    if (domainId === undefined) directoryRights.requireSuperadmin(principal);
    else directoryRights.requireOwner(principal, domainId);
    return this.#views(domainId);
  }

  async #views(domainId: string | undefined): Promise<SettingView[]> {
    const layers = await this.#overrides(domainId);
    return this.registry.keys().map((key) => {
      const def = this.registry.require(key);
      const candidates: Array<[SettingView['source'], unknown]> = [
        ['domain', layers.domain[key]],
        ['server', layers.server[key]],
      ];
      for (const [source, v] of candidates) {
        if (v === undefined) continue;
        const parsed = def.schema.safeParse(v);
        if (parsed.success)
          return {
            key,
            value: parsed.data,
            default: def.default,
            source,
            scope: def.scope,
            description: def.description,
          };
      }
      return {
        key,
        value: def.default,
        default: def.default,
        source: 'default',
        scope: def.scope,
        description: def.description,
      };
    });
  }

  async #overrides(
    domainId: string | undefined,
  ): Promise<{ server: Record<string, unknown>; domain: Record<string, unknown> }> {
    const db = this.store.db;
    const serverRows = await db
      .select()
      .from(serverMeta)
      .where(sql`${serverMeta.name} like ${SERVER_PREFIX + '%'}`);
    const server: Record<string, unknown> = {};
    for (const r of serverRows) {
      try {
        server[r.name.slice(SERVER_PREFIX.length)] = JSON.parse(r.value);
      } catch {
        // A hand-edited row that is not JSON is ignored (the default applies).
      }
    }
    let domain: Record<string, unknown> = {};
    if (domainId !== undefined) {
      const [row] = await db.select({ settings: domains.settings }).from(domains).where(eq(domains.id, domainId));
      domain = row?.settings ?? {};
    }
    return { server, domain };
  }
}
