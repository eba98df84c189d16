/**
 * Who may scrape GET /metrics: the addresses of an allowlist (loopback by default, so a
 * Prometheus on the same host or behind an SSH tunnel works out of the box) and anyone with the
 * bearer token HANDSET_METRICS_TOKEN. Metrics name the load, the call rates and the failures of a
 * PBX: not for the whole internet.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** The configured policy (HANDSET_METRICS_ALLOW, HANDSET_METRICS_TOKEN). */
export interface MetricsAccessConfig {
  /** Addresses and CIDR ranges allowed without a token. */
  allow: readonly string[];
  /** Bearer token that allows any address; undefined: none. */
  token: string | undefined;
}

/** The default allowlist: loopback only. */
export const LOOPBACK_ONLY: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** What a scrape gets. */
export type MetricsVerdict = 'allowed' | 'unauthorized' | 'forbidden';

/** Parses one allowlist entry (`10.0.0.5`, `10.0.0.0/8`, `2001:db8::/32`); undefined when malformed. */
export function parseAllowEntry(
  entry: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  )
    return undefined;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Decides each scrape from the remote address and the Authorization header. */
export class MetricsAccess {
  readonly #list = new BlockList();
  readonly #token: Buffer | undefined;

  constructor(config: MetricsAccessConfig) {
    for (const entry of config.allow) {
      const e = parseAllowEntry(entry);
      if (e === undefined) throw new Error(`not an address or CIDR range: ${entry}`);
      this.#list.addSubnet(e.address, e.prefix, e.family);
    }
    this.#token = config.token === undefined ? undefined : digest(config.token);
  }

  /** The verdict for one request. */
  check(remoteAddress: string | undefined, authorization: string | undefined): MetricsVerdict {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    // Hashing both sides gives equal lengths for the constant-time comparison.
    if (m && this.#token !== undefined && timingSafeEqual(digest(m[1]!), this.#token)) return 'allowed';
    if (remoteAddress !== undefined && this.#allowed(remoteAddress)) return 'allowed';
    return this.#token === undefined ? 'forbidden' : 'unauthorized';
  }

  #allowed(address: string): boolean {
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const v = isIP(plain);
    return v !== 0 && this.#list.check(plain, v === 4 ? 'ipv4' : 'ipv6');
  }
}
