/**
 * Digest authentication of SIP requests as the registrar (401) and the proxy (407) apply it: the
 * domain's policy (TLS only, qop required), the per-source block, the per-account slow-down, nonces
 * bound to the challenged source (and connection), and which failures count against a source.
 *
 * A failure counts only when its nonce was issued to the source that answers it: a spoofed UDP
 * source never sees the challenge sent to the real one, so it cannot make the victim's address
 * fail, be blocked, or slow down the victim's account.
 */
import type { AuthHeader, DigestAuthenticator, Flow } from '@handset/sip';
import type { Logger } from 'pino';
import { DEFAULT_SIP_DOMAIN_POLICY, type SipDomainPolicies, type SipDomainPolicy } from '../sip/sip-domain-policy.js';
import type { AccountGuard } from './account-guard.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { SubscriberDirectory } from './subscriber-directory.js';

/** The request facts authentication needs. */
export interface SipAuthRequest {
  readonly method: string;
  /** The Authorization / Proxy-Authorization picked for this realm, parsed. */
  readonly credentials: AuthHeader | undefined;
  /** The domain: the realm, and the policy's key. */
  readonly domain: string;
  /** The user the credentials must be for. */
  readonly user: string;
  readonly flow: Flow;
}

/** What to answer. */
export type SipAuthOutcome =
  | { readonly ok: true; readonly username: string }
  /** Refused outright: no challenge (a block, malformed credentials, the domain's policy). */
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string }
  /**
   * A challenge: `stale` for a retry with a fresh nonce; `absorb` when the answer must go through
   * the transaction (a failure was counted, so a retransmission must not be checked again), else it
   * may be sent statelessly (RFC 3261 §8.2.7: the same request would get the same challenge).
   */
  | { readonly ok: false; readonly status: 'challenge'; readonly stale: boolean; readonly absorb: boolean };

/** Counters reported (Prometheus in the server). */
export interface SipAuthMetrics {
  authFailure(reason: string): void;
}

/** Dependencies of {@link SipAuthentication}. */
export interface SipAuthenticationOptions {
  readonly authenticator: DigestAuthenticator;
  readonly directory: SubscriberDirectory;
  readonly limiter: AuthFailureLimiter;
  readonly accounts?: AccountGuard | undefined;
  readonly policies?: SipDomainPolicies | undefined;
  readonly metrics?: SipAuthMetrics | undefined;
  readonly logger?: Logger | undefined;
}

/** Transports that satisfy `sip.tls_only`. */
const SECURE: ReadonlySet<string> = new Set(['tls', 'wss']);

/**
 * Whom a nonce is issued to: the source address, and on a stream transport the connection too
 * (a capture cannot be answered from another address, nor from another connection of the same host).
 */
export function nonceBinding(flow: Flow): string {
  return flow.reliable ? `${flow.protocol} ${flow.remote.address} ${flow.id}` : `udp ${flow.remote.address}`;
}

const CHALLENGE: SipAuthOutcome = Object.freeze({ ok: false, status: 'challenge', stale: false, absorb: false });
const STALE: SipAuthOutcome = Object.freeze({ ok: false, status: 'challenge', stale: true, absorb: false });
/** What a wrong password gets (and, alike, a check skipped by the slow-down). */
const WRONG: SipAuthOutcome = Object.freeze({ ok: false, status: 'challenge', stale: false, absorb: true });

/** Authenticates SIP requests for the registrar and the proxy. */
export class SipAuthentication {
  constructor(private readonly o: SipAuthenticationOptions) {}

  /** The domain's policy, at once when known. */
  policyOf(domain: string): SipDomainPolicy | Promise<SipDomainPolicy> {
    return this.o.policies?.policyOf(domain) ?? DEFAULT_SIP_DOMAIN_POLICY;
  }

  /** Checks one request's credentials. Rejects only when the store does. */
  async authenticate(req: SipAuthRequest): Promise<SipAuthOutcome> {
    const { flow, domain, user } = req;
    const pending = this.policyOf(domain);
    const policy = pending instanceof Promise ? await pending : pending;
    if (policy.tlsOnly && !SECURE.has(flow.protocol)) {
      this.o.metrics?.authFailure('tls-required');
      return { ok: false, status: 403, reason: 'TLS required for this domain' };
    }
    const source = flow.remote.address;
    if (this.o.limiter.isBlocked(source)) {
      this.o.metrics?.authFailure('blocked');
      return { ok: false, status: 403, reason: 'Too many failed attempts' };
    }
    const account = `${user}@${domain}`;
    const accounts = this.o.accounts;
    const auth = await this.o.authenticator.verify({
      method: req.method,
      credentials: req.credentials,
      realm: domain,
      expectedUsername: user,
      lookup: (username) => this.o.directory.digestSecret(domain, username),
      binding: nonceBinding(flow),
      requireQop: policy.requireQop,
      admit: accounts === undefined ? undefined : () => accounts.admit(account, source),
    });
    if (auth.ok) {
      this.o.limiter.recordSuccess(source);
      accounts?.recordSuccess(account, source);
      return { ok: true, username: auth.username };
    }
    const reason = auth.reason;
    if (reason === 'missing') {
      // The answer comes back in a moment: a user added by another node is looked up meanwhile.
      this.o.directory.prefetch?.(domain, user);
      return CHALLENGE;
    }
    this.o.metrics?.authFailure(reason);
    switch (reason) {
      case 'stale':
      case 'foreign-nonce':
        return STALE;
      case 'malformed':
        return { ok: false, status: 400, reason: 'malformed' };
      case 'qop-required':
        return { ok: false, status: 403, reason: 'Digest with qop=auth required' };
      case 'bad-response':
      case 'replay':
        // The nonce was issued to this source: the failure is really its own.
        this.o.limiter.recordFailure(source);
        accounts?.recordFailure(account, source);
        this.o.logger?.info({ account, source, reason }, 'SIP authentication failed');
        return WRONG;
      case 'throttled':
        // Unchecked, and answered exactly as a wrong password: the guesser learns nothing.
        return WRONG;
      default:
        // invalid-nonce, realm-mismatch, unsupported-algorithm: a new challenge, nothing counted.
        return CHALLENGE;
    }
  }

  /** Challenge values for a 401/407, with a nonce bound to the request's source. */
  challenges(domain: string, flow: Flow, stale: boolean): string[] {
    return this.o.authenticator.challenge(domain, { stale, binding: nonceBinding(flow) });
  }
}
