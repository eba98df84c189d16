/**
 * Per-domain SIP security settings (`sip.require_qop`, `sip.tls_only`), defined in the shared
 * settings registry and read by the registrar and the proxy on every request. Reads must not wait
 * on the store: a domain's policy is loaded once when first seen (that request waits for it, so a
 * strict domain is never served loosely), then kept and refreshed in the background every `ttlMs`.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import type { SettingDefinition, SettingsRegistry } from '../directory/settings-registry.js';

/** What the SIP side enforces for one domain. */
export interface SipDomainPolicy {
  /** Digest credentials without qop (RFC 2069 style) are refused. */
  readonly requireQop: boolean;
  /** Only TLS and WSS may carry this domain's REGISTERs and calls (a `sips:` domain). */
  readonly tlsOnly: boolean;
}

/** The policy of a domain with no overrides. */
export const DEFAULT_SIP_DOMAIN_POLICY: SipDomainPolicy = Object.freeze({ requireQop: false, tlsOnly: false });

/** The settings this module defines. */
export const SIP_SETTINGS: Record<'sip.require_qop' | 'sip.tls_only', SettingDefinition<boolean>> = {
  'sip.require_qop': {
    schema: z.boolean(),
    default: false,
    scope: 'domain',
    description:
      'Refuse digest credentials without qop (RFC 2069 style clients) with 403; every challenge offers qop=auth',
  },
  'sip.tls_only': {
    schema: z.boolean(),
    default: false,
    scope: 'domain',
    description: 'REGISTER and calls of this domain only over TLS or WSS; plain UDP, TCP and WS get 403',
  },
};

/** Adds the sip.* settings to the registry. */
export function defineSipSettings(registry: SettingsRegistry): void {
  for (const [key, def] of Object.entries(SIP_SETTINGS)) registry.define<boolean>(key, def);
}

/** Where the policy is read from (the settings service, by domain name). */
export type SipPolicySource = (domain: string) => Promise<SipDomainPolicy>;

/** Options for {@link SipDomainPolicies}. */
export interface SipDomainPoliciesOptions {
  readonly source: SipPolicySource;
  /** How long a loaded policy is used before it is read again in the background (default 5 s). */
  readonly ttlMs?: number;
  readonly clock?: () => number;
  readonly logger?: Logger | undefined;
  /** Most domains kept (default 10 000; the cache restarts when full). */
  readonly maxDomains?: number;
}

interface Entry {
  policy: SipDomainPolicy;
  at: number;
  refreshing: boolean;
}

/** The per-domain SIP policies, held in memory. */
export class SipDomainPolicies {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<SipDomainPolicy>>();
  readonly #source: SipPolicySource;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;
  readonly #maxDomains: number;

  constructor(options: SipDomainPoliciesOptions) {
    this.#source = options.source;
    this.#ttlMs = options.ttlMs ?? 5000;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger;
    this.#maxDomains = options.maxDomains ?? 10_000;
  }

  /** The domain's policy: at once when known (refreshed in the background when old), else after one load. */
  policyOf(domain: string): SipDomainPolicy | Promise<SipDomainPolicy> {
    const d = domain.toLowerCase();
    const entry = this.#entries.get(d);
    if (entry === undefined) return this.#load(d);
    if (!entry.refreshing && this.#clock() - entry.at >= this.#ttlMs) {
      entry.refreshing = true;
      this.#load(d).then(undefined, () => {});
    }
    return entry.policy;
  }

  /** Forgets every policy (after a settings change, so the next request reads it again). */
  invalidate(domain?: string): void {
    if (domain === undefined) this.#entries.clear();
    else this.#entries.delete(domain.toLowerCase());
  }

  #load(d: string): Promise<SipDomainPolicy> {
    let loading = this.#loading.get(d);
    if (loading !== undefined) return loading;
    loading = this.#source(d)
      .catch((err: unknown) => {
        // The store is down: keep what was known, else the defaults (logged once per load).
        this.#logger?.warn({ err, domain: d }, 'could not read SIP domain policy');
        return this.#entries.get(d)?.policy ?? DEFAULT_SIP_DOMAIN_POLICY;
      })
      .then((policy) => {
        if (this.#entries.size >= this.#maxDomains) this.#entries.clear();
        this.#entries.set(d, { policy, at: this.#clock(), refreshing: false });
        return policy;
      })
      .finally(() => this.#loading.delete(d));
    this.#loading.set(d, loading);
    return loading;
  }
}
