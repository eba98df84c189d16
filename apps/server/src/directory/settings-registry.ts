import type { z } from 'zod';
import { DirectoryError } from './directory-error.js';

/** Where a setting may be overridden: only server-wide, or per domain too. */
export type SettingScope = 'server' | 'domain';

/** The definition of one known setting. */
export interface SettingDefinition<T = unknown> {
  /** Validates (and may normalize) a value; its message is what a caller sees on a bad value. */
  schema: z.ZodType<T>;
  default: T;
  description: string;
  scope: SettingScope;
}

/**
 * A rule across settings (e.g. one value bounded by another): given the effective values of its
 * keys, with the value being set in place, the message to refuse with, or undefined when it holds.
 */
export interface SettingRule {
  keys: readonly string[];
  check(read: (key: string) => unknown): string | undefined;
}

/** Dotted lower-case key: `sessiontalk.qr_expiration`. */
const KEY = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * The typed registry of known settings. Each feature defines its keys once at wiring time
 * (`define`), with a zod schema, a default and a scope; {@link SettingsService} stores overrides.
 */
export class SettingsRegistry {
  readonly #defs = new Map<string, SettingDefinition>();
  readonly #rules: SettingRule[] = [];

  /** Registers a key; throws if the key is malformed, already defined, or its default is invalid. */
  define<T>(key: string, def: SettingDefinition<T>): this {
    if (!KEY.test(key)) throw new Error(`setting key "${key}" must be dotted lower-case words`);
    if (this.#defs.has(key)) throw new Error(`setting ${key} is already defined`);
    const ok = def.schema.safeParse(def.default);
    if (!ok.success) throw new Error(`default of setting ${key} does not pass its own schema`);
    this.#defs.set(key, def);
    return this;
  }

  /** Adds a rule across keys, checked whenever one of them is set (its keys must be defined). */
  rule(rule: SettingRule): this {
    for (const k of rule.keys) this.require(k);
    this.#rules.push(rule);
    return this;
  }

  /** The rules that involve `key`. */
  rulesFor(key: string): SettingRule[] {
    return this.#rules.filter((r) => r.keys.includes(key));
  }

  /** The definition, or undefined for an unknown key. */
  get(key: string): SettingDefinition | undefined {
    return this.#defs.get(key);
  }

  /** The definition; throws NOT_FOUND for an unknown key. */
  require(key: string): SettingDefinition {
    const def = this.#defs.get(key);
    if (!def) throw new DirectoryError('NOT_FOUND', `unknown setting ${key.slice(0, 100)}`);
    return def;
  }

  /** Every key, sorted. */
  keys(): string[] {
    return [...this.#defs.keys()].sort();
  }
}
