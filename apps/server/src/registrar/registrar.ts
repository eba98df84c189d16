/**
 * REGISTER processing (RFC 3261 §10.3) with digest authentication (RFC 7616/8760),
 * SIP Outbound instance/reg-id bindings (RFC 5626 §6), Path (RFC 3327).
 */
import {
  BRANCH_MAGIC_COOKIE,
  createResponse,
  type Flow,
  type NameAddr,
  ownCopy,
  ownCopyOf,
  paramValue,
  parseUri,
  pickParsedCredentials,
  SipParseError,
  type SipRequest,
  type SipResponse,
  unescapeUser,
  viaBranch,
} from '@handset/sip';
import type { Logger } from 'pino';
import type { Binding } from './binding.js';
import type { LocationService } from './location-service.js';
import type { SipAuthentication } from './sip-authentication.js';
import type { SharedBindingWriter } from './shared-binding-writer.js';
import type { SubscriberDirectory } from './subscriber-directory.js';

/** RFC 3261 §20.19: delta-seconds above 2**32-1 are taken as 2**32-1. */
const MAX_DELTA_SECONDS = 4294967295;

/**
 * How long a REGISTER's retransmissions are answered from its bindings: 64*T1, the 32 s a
 * non-INVITE server transaction would stay Completed for them (RFC 3261 §17.2.2, Timer J).
 */
const RETRANSMISSION_WINDOW_MS = 64 * 500;

/** Policy knobs of the registrar. */
export interface RegistrarPolicy {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
}

/** Dependencies of the registrar. */
export interface RegistrarOptions {
  location: LocationService;
  /**
   * Cluster: writes go through the shared record, which orders them (§10.3 step 7) across nodes;
   * `location` is then this node's copy. Unset (one node): `location` alone, written in memory.
   */
  shared?: SharedBindingWriter | undefined;
  directory: SubscriberDirectory;
  /** Digest authentication with the domain policy and brute-force limits. */
  auth: SipAuthentication;
  policy: RegistrarPolicy;
  /** Marks connection-oriented flows that carry registrations (exempt from the idle timeout). */
  setFlowRegistered: (flow: Flow, registered: boolean) => void;
  logger?: Logger;
  clock?: () => number;
}

/**
 * The registrar's answer to one REGISTER. `stateless`: the response may be sent as a stateless UAS
 * sends it (RFC 3261 §8.2.7), with no transaction kept for the 32 s of Completed, because a
 * retransmission of the request gets the same answer with no other effect:
 * - a challenge (no credentials, or a stale nonce), which processing again regenerates;
 * - the 200 of a REGISTER whose every contact is now bound: its bindings remember the request's
 *   Call-ID, CSeq, top Via branch and source, and a retransmission that matches them within 32 s
 *   is answered from the bindings again, before authentication (its nonce count was used), just as
 *   a Completed transaction would resend its 200. This is what a registrar answers most.
 * Every other answer has an effect nothing would recognise again (a removal, a counted failure) and
 * is sent through the transaction, which absorbs retransmissions.
 */
export interface RegisterAnswer {
  readonly response: SipResponse;
  readonly stateless: boolean;
}

/** Answers REGISTER requests. Pure request-in, response-out; the transaction layer sends it. */
export class Registrar {
  private readonly clock: () => number;
  private dateSecond = NaN;
  private dateText = '';
  constructor(private readonly o: RegistrarOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /** Processes one REGISTER and returns the final response. Never throws for bad input. */
  async handleRegister(req: SipRequest, flow: Flow): Promise<SipResponse> {
    return (await this.answer(req, flow)).response;
  }

  /** Processes one REGISTER: the final response, and whether it may be sent statelessly. Never throws for bad input. */
  async answer(req: SipRequest, flow: Flow): Promise<RegisterAnswer> {
    try {
      return await this.process(req, flow);
    } catch (err) {
      if (err instanceof SipParseError)
        return { response: createResponse(req, 400, { reason: err.message, toTag: 'reg' }), stateless: false };
      throw err;
    }
  }

  private async process(req: SipRequest, flow: Flow): Promise<RegisterAnswer> {
    const reply = (status: number, opts: Parameters<typeof createResponse>[2] = {}) =>
      stateful(createResponse(req, status, { toTag: 'reg', ...opts }));

    // §10.3 step 1-2: the Request-URI names the domain; we must be responsible for it.
    const ruri = req.requestUri;
    if (ruri.scheme !== 'sip' && ruri.scheme !== 'sips') return reply(416);
    const to = parseUri(req.to.uri);
    if (to.scheme !== 'sip' && to.scheme !== 'sips') return reply(400, { reason: 'To is not a SIP address-of-record' });
    if (to.user === undefined) return reply(400, { reason: 'To has no user part' });
    const domain = to.host;
    const user = unescapeUser(to.user);
    if (!(await this.o.directory.isLocalDomain(domain))) return reply(404, { reason: 'Domain not served here' });
    const aor = `${user}@${domain}`;

    // A retransmission of a REGISTER already answered 200 (see RegisterAnswer).
    const branch = rfc3261Branch(req);
    const retransmitted = branch === undefined ? undefined : this.retransmissionOf(req, branch, aor, flow);
    if (retransmitted !== undefined) return { response: this.ok(req, aor, retransmitted), stateless: true };

    // §10.3 step 3 / §22: authenticate; realm is the domain (policy, brute-force limits: SipAuthentication).
    const auth = await this.o.auth.authenticate({
      method: 'REGISTER',
      credentials: pickParsedCredentials(req.getHeaders('authorization'), domain)?.header,
      domain,
      user,
      flow,
    });
    if (!auth.ok) {
      if (auth.status !== 'challenge')
        return reply(auth.status, { reason: auth.status === 400 ? 'Malformed Authorization header' : auth.reason });
      const challenges = this.o.auth.challenges(domain, flow, auth.stale);
      const response = createResponse(req, 401, {
        toTag: 'reg',
        headers: challenges.map((c) => ['WWW-Authenticate', c] as const),
      });
      return { response, stateless: !auth.absorb };
    }

    // §10.3 step 4-5: Contact processing.
    const contacts = req.contacts;
    const expiresHeader = req.getHeader('expires');
    const headerExpires = expiresHeader === undefined ? undefined : parseDelta(expiresHeader);
    const callId = req.callId;
    const cseq = req.cseq.seq;
    const now = this.clock();

    if (contacts === '*') {
      // §10.3 step 6: "*" only with Expires: 0 and no other Contact.
      if (headerExpires !== 0) return reply(400, { reason: 'Contact * requires Expires: 0' });
      for (const b of this.o.location.lookup(aor)) {
        if (b.callId === callId && cseq <= b.cseq) continue; // an older request must not win
        if (this.o.shared) {
          if (!(await this.o.shared.remove(b, { mode: 'request', callId, cseq }))) continue;
        } else this.o.location.remove(b);
        this.afterRemoval(b, flow);
      }
      return stateful(this.ok(req, aor, false));
    }

    // More contacts in one request than an AOR may hold: refused whole, before anything changes
    // (accepting and then evicting them would churn bindings, events and writes for nothing).
    if (contacts.length > this.o.policy.maxContacts) {
      return reply(403, { reason: `Too many contacts (at most ${this.o.policy.maxContacts})` });
    }
    const path = this.pathOf(req);
    const changes: Array<{ binding: Binding; expires: number; existing: Binding | undefined }> = [];
    for (const c of contacts) {
      const requested = contactExpires(c, headerExpires) ?? this.o.policy.defaultExpires;
      // §10.3 step 6 / §20.23: 423 with Min-Expires when the interval is too brief.
      if (requested !== 0 && requested < this.o.policy.minExpires) {
        return reply(423, { headers: [['Min-Expires', String(this.o.policy.minExpires)]] });
      }
      const expires = Math.min(requested, this.o.policy.maxExpires);
      const instanceId = paramValue(c.params, '+sip.instance');
      const regIdRaw = paramValue(c.params, 'reg-id');
      const regId = regIdRaw !== undefined && /^\d{1,9}$/.test(regIdRaw) ? Number(regIdRaw) : undefined;
      // RFC 5626 §6: bindings are keyed by instance (and reg-id), so a re-register from a
      // new address replaces the old binding instead of adding one.
      const key = instanceId !== undefined ? `${instanceId}#${regId ?? ''}` : normalizeContactUri(c.uri);
      const existing = this.o.location.get(aor, key);
      // §10.3 step 7: same Call-ID with a CSeq not above the stored one is out of order.
      if (existing && existing.callId === callId && cseq <= existing.cseq) {
        return reply(500, { reason: 'Out of order REGISTER', headers: [['Retry-After', '1']] });
      }
      const q = paramValue(c.params, 'q');
      // The binding lives for minutes: its strings get storage of their own rather than staying
      // views of the received request (which they would keep in memory whole).
      changes.push({
        expires,
        existing,
        binding: {
          aor,
          domain,
          key: ownCopy(key),
          instanceId: ownCopyOf(instanceId),
          regId,
          contactUri: ownCopy(c.uri),
          path: path.map(ownCopy),
          callId: ownCopy(callId),
          cseq,
          branch: ownCopyOf(branch),
          expiresAt: now + expires * 1000,
          flowId: flow.reliable ? flow.id : undefined,
          transport: flow.protocol,
          sourceAddress: flow.remote.address,
          sourcePort: flow.remote.port,
          userAgent: ownCopyOf(req.getHeader('user-agent')),
          q: q !== undefined && /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q) ? Number(q) : undefined,
          receivedAt: now,
        },
      });
    }

    for (const { binding, expires, existing } of changes) {
      if (expires === 0) {
        if (existing) {
          if (this.o.shared) {
            if (!(await this.o.shared.remove(existing, { mode: 'request', callId, cseq }))) continue;
          } else this.o.location.remove(existing);
          this.afterRemoval(existing, flow);
        }
        continue;
      }
      if (this.o.shared) {
        // §10.3 step 7, decided by the shared record: a newer REGISTER went through another node.
        if (!(await this.o.shared.save(binding)))
          return reply(500, { reason: 'Out of order REGISTER', headers: [['Retry-After', '1']] });
      } else this.o.location.save(binding);
      if (flow.reliable) this.o.setFlowRegistered(flow, true);
    }
    const live = this.o.shared ? await this.enforceSharedMaxContacts(aor, flow) : this.enforceMaxContacts(aor, flow);
    const response = this.ok(
      req,
      aor,
      changes.some((c) => c.binding.regId !== undefined && c.expires > 0) && path.length === 0,
      live,
    );
    // Every contact bound, with a branch to know the request by: its retransmissions are answered
    // from the bindings (retransmissionOf), so no transaction needs to wait 32 s for them. A query
    // (no Contact) leaves nothing to know it by: it keeps its transaction.
    const recognisable = branch !== undefined && changes.length > 0 && changes.every((c) => c.expires > 0);
    return { response, stateless: recognisable };
  }

  /**
   * RFC 3261 §17.2.3 matches a retransmission by branch, sent-by and method; here the request's
   * bindings stand in for the transaction: one written by this Call-ID, CSeq and branch, from this
   * same source, less than 32 s ago (the same request from elsewhere is not a retransmission). Returns whether the 200 carried Require: outbound, or undefined
   * when this is not such a retransmission.
   */
  private retransmissionOf(req: SipRequest, branch: string, aor: string, flow: Flow): boolean | undefined {
    const callId = req.callId;
    const cseq = req.cseq.seq;
    const bindings = this.o.location.bindingsByKey(aor);
    if (bindings === undefined) return undefined;
    const now = this.clock();
    const since = now - RETRANSMISSION_WINDOW_MS;
    let found = false;
    let outbound = false;
    // Cheapest tests first: an AOR's other bindings are mostly other devices (another source port or
    // address), and numbers compare faster than the Call-ID and branch strings.
    const port = flow.remote.port;
    const address = flow.remote.address;
    for (const b of bindings.values()) {
      if (b.sourcePort !== port || b.cseq !== cseq || b.receivedAt < since || b.expiresAt <= now) continue;
      if (b.branch !== branch || b.callId !== callId || b.sourceAddress !== address) continue;
      found = true;
      if (b.regId !== undefined) outbound = true;
    }
    if (!found) return undefined;
    return outbound && this.pathOf(req).length === 0;
  }

  /**
   * Over the cap, the bindings registered longest ago give way (as phones that changed address leave
   * stale ones). Returns the bindings that stay, most recent first.
   */
  private enforceMaxContacts(aor: string, flow: Flow): Binding[] {
    const live = this.o.location.lookup(aor);
    const max = this.o.policy.maxContacts;
    if (live.length <= max) return live;
    for (const b of live.slice(max)) {
      this.o.location.remove(b);
      this.afterRemoval(b, flow);
    }
    return live.slice(0, max);
  }

  /** {@link enforceMaxContacts} through the shared record (only the versions held here are evicted). */
  private async enforceSharedMaxContacts(aor: string, flow: Flow): Promise<Binding[]> {
    const live = this.o.location.lookup(aor);
    const max = this.o.policy.maxContacts;
    if (live.length <= max) return live;
    for (const b of live.slice(max)) {
      if (await this.o.shared!.remove(b, { mode: 'exact' })) this.afterRemoval(b, flow);
    }
    return this.o.location.lookup(aor).slice(0, max);
  }

  private afterRemoval(b: Binding, flow: Flow): void {
    if (b.flowId !== undefined && this.o.location.bindingsOnFlow(b.flowId).length === 0 && b.flowId === flow.id) {
      this.o.setFlowRegistered(flow, false);
    }
  }

  /** RFC 3261 §20.17 Date (RFC 1123 form, GMT), made once a second rather than once a REGISTER. */
  private httpDate(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  }

  /** RFC 3327 §5.3: Path is stored only when the UA supports it; we accept it from any edge proxy. */
  private pathOf(req: SipRequest): string[] {
    return req.getHeaders('path');
  }

  /** §10.3 step 8: 200 OK listing every current binding (`live`, when just looked up) with its own expires. */
  private ok(req: SipRequest, aor: string, outbound: boolean, live = this.o.location.lookup(aor)): SipResponse {
    const now = this.clock();
    const headers: Array<readonly [string, string]> = [];
    for (const b of live) {
      const left = Math.max(0, Math.round((b.expiresAt - now) / 1000));
      let v = `<${b.contactUri}>;expires=${left}`;
      if (b.instanceId !== undefined) v += `;+sip.instance="${b.instanceId}"`;
      if (b.regId !== undefined) v += `;reg-id=${b.regId}`;
      headers.push(['Contact', v]);
    }
    for (const p of req.getHeaders('path')) headers.push(['Path', p]);
    if (outbound) headers.push(['Require', 'outbound']);
    headers.push(['Supported', 'path, outbound']);
    headers.push(['Date', this.httpDate(now)]);
    return createResponse(req, 200, { toTag: 'reg', headers });
  }
}

const stateful = (response: SipResponse): RegisterAnswer => ({ response, stateless: false });

/** The request's top Via branch when it is an RFC 3261 one (magic cookie), which is unique per transaction (§8.1.1.7). */
function rfc3261Branch(req: SipRequest): string | undefined {
  const branch = viaBranch(req.topVia);
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE) ? branch : undefined;
}

function parseDelta(v: string): number {
  const t = v.trim();
  if (!/^\d{1,20}$/.test(t)) throw new SipParseError('bad Expires value');
  return Math.min(Number(t), MAX_DELTA_SECONDS);
}

function contactExpires(c: NameAddr, headerExpires: number | undefined): number | undefined {
  const p = paramValue(c.params, 'expires');
  return p === undefined ? headerExpires : parseDelta(p);
}

/** Contact URIs compare case-insensitively in scheme and host (RFC 3261 §19.1.4); we lowercase the whole URI but the user part. */
function normalizeContactUri(uri: string): string {
  const at = uri.indexOf('@');
  return at < 0 ? uri.toLowerCase() : uri.slice(0, at) + uri.slice(at).toLowerCase();
}
