/**
 * The stateful proxy (RFC 3261 §16): authenticates local callers (407), routes to the
 * bindings of local users with parallel forking, Record-Routes with flow tokens (RFC 5626
 * §5.3, RFC 7118 §5, double Record-Route per RFC 5658), loose routing of in-dialog
 * requests, stateless forwarding of 2xx ACKs, and call tracking for CDRs.
 */
import { hash as oneShotHash } from 'node:crypto';
import {
  BRANCH_MAGIC_COOKIE,
  createResponse,
  type Flow,
  newBranch,
  parseUri,
  pickParsedCredentials,
  type SendTarget,
  SipParseError,
  SipRequest,
  type SipResponse,
  type SipUri,
  unescapeUser,
  type Via,
} from '@handset/sip';
import type { Logger } from 'pino';
import type { Binding } from '../registrar/binding.js';
import type { LocationService } from '../registrar/location-service.js';
import type { SipAuthentication } from '../registrar/sip-authentication.js';
import type { SubscriberDirectory } from '../registrar/subscriber-directory.js';
import type { BranchFields, BranchSigner } from './branch-signer.js';
import type { CallTracker } from './call-tracker.js';
import { type FlowTokenCodec, flowTarget } from './flow-token.js';
import { Forwarding, type ForwardingObserver } from './forwarding.js';
import type { LocalIdentity } from './local-identity.js';
import type { MediaPlane } from '../media/media-plane.js';
import { MediaAnchoring, mediaRefusal } from './media-anchoring.js';
import { defaultPort, resolveUriTarget } from './uri-target.js';
import type { ProxySipLayer, ServerTransactionLike } from './sip-layer.js';

/** Methods that create dialogs and so get Record-Route (RFC 3261 §16.6 step 4). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);
/** Option tags this proxy supports (Proxy-Require may only name these). */
const SUPPORTED_OPTIONS: ReadonlySet<string> = new Set(['path', 'outbound']);
/** What we answer in Allow. */
export const ALLOWED_METHODS =
  'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK';

/** A ring group an extension names: its strategy, per-member ring time, and active members' extensions in order. */
export interface RingGroup {
  strategy: 'simultaneous' | 'sequential';
  ringTimeoutS: number;
  members: string[];
}

/** Resolves group extensions (the directory's GroupService implements it). */
export interface GroupResolver {
  resolveGroup(domain: string, ext: string): Promise<RingGroup | undefined>;
}

/** Counters the proxy reports. */
export interface ProxyMetrics {
  /** A response that matched no client transaction and carried no branch of ours: dropped. */
  responseDropped?(reason: 'unknown-branch' | 'not-ours'): void;
}

/** Dependencies of the proxy. */
export interface ProxyOptions {
  layer: ProxySipLayer;
  location: LocationService;
  directory: SubscriberDirectory;
  /** Digest authentication of local callers with the domain policy and brute-force limits. */
  auth: SipAuthentication;
  identity: LocalIdentity;
  flowTokens: FlowTokenCodec;
  /** Signs the branches of forwarded requests and checks those of stray responses. */
  branches: BranchSigner;
  calls: CallTracker;
  ringTimeoutMs?: number;
  /** When set, a call to a group's extension rings its members. */
  groups?: GroupResolver | undefined;
  metrics?: ProxyMetrics;
  /** When set, calls between ends that speak different media go through rtpengine. */
  media?: MediaPlane | undefined;
  logger?: Logger;
  /**
   * Cluster: the codec of this cluster's Path entries (RFC 3327), which name a node and a flow it
   * holds. A request routed by another node to one of them is sent on that flow (the other node
   * authenticated the caller); these tokens never leave the cluster (unlike Record-Route ones).
   */
  pathTokens?: FlowTokenCodec | undefined;
  /** Cluster: false for a binding that cannot be reached now (its flow was held by a node that died). */
  reachable?: ((binding: Binding) => boolean) | undefined;
}

/** Result of Route pre-processing (§16.4). */
interface RouteInfo {
  /** Set when one of our Record-Route entries named the flow to use next. */
  flowTarget: SendTarget | undefined;
  /** Set when one of our cluster Path entries named the flow: the request comes from another node. */
  pathTarget?: SendTarget | undefined;
  /** True when at least one Route entry was ours. */
  routedByUs: boolean;
}

/** The proxy core: requests in from the transaction layer, branches out. */
export class ProxyCore {
  private readonly forwardings = new Map<ServerTransactionLike, Forwarding>();
  /** Media anchoring (rtpengine), when a media plane is configured. */
  readonly anchoring: MediaAnchoring | undefined;

  constructor(private readonly o: ProxyOptions) {
    this.anchoring = o.media
      ? new MediaAnchoring({
          media: o.media,
          layer: o.layer,
          calls: o.calls,
          via: (target, branch) => this.viaValue(target, branch),
          logger: o.logger,
        })
      : undefined;
  }

  /** A new non-REGISTER request (its server transaction exists). */
  async onRequest(txn: ServerTransactionLike): Promise<void> {
    const req = txn.request;
    try {
      if (req.method === 'CANCEL') return this.onCancel(txn);
      await this.route(txn);
    } catch (err) {
      if (err instanceof SipParseError) txn.respond(createResponse(req, 400, { reason: err.message, toTag: 'bad' }));
      else {
        this.o.logger?.error({ err, method: req.method, callId: safeCallId(req) }, 'proxy failed to handle a request');
        txn.respond(createResponse(req, 500, { toTag: 'err' }));
      }
    }
  }

  /** An ACK that matched no server transaction: the ACK for a 2xx, forwarded end to end (§16.7, §16.11). */
  async onAck(ack: SipRequest, flow: Flow): Promise<void> {
    try {
      if (ack.maxForwards === 0) return;
      const info = this.preprocessRoutes(ack);
      // A 2xx ACK follows our Record-Route, which always carries a flow token. Anything else is an
      // ACK for a response we generated, or an attempt to use us as an open relay: dropped.
      if (info.flowTarget === undefined) return;
      const target = await this.nextHop(ack, info);
      if (!target) return;
      decrementMaxForwards(ack);
      // §16.11: a stateless forward uses a branch derived from the incoming one, so retransmissions match.
      const inBranch = ack.topVia.params.get('branch') ?? '';
      const branch = BRANCH_MAGIC_COOKIE + 'S' + hash(`${inBranch}|${ack.callId}|${ack.cseq.seq}`);
      ack.prependHeader('Via', this.viaValue(target, branch));
      this.o.layer.sendStateless(ack, target);
      this.o.calls.touch(ack.callId);
      void flow;
    } catch (err) {
      this.o.logger?.debug({ err }, 'dropped an ACK that could not be forwarded');
    }
  }

  /**
   * A response that matched no client transaction (§16.7 / §16.11): forwarded by its Via, but only
   * when its top Via is ours with a branch we signed for this Call-ID, CSeq and next hop (see
   * BranchSigner); anything else is dropped and counted.
   */
  onStrayResponse(res: SipResponse): void {
    try {
      const top = res.via[0];
      if (!top || !this.o.identity.isOurHost(top.host)) return this.dropResponse('not-ours');
      const next = res.via[1];
      if (!next) return this.dropResponse('not-ours');
      const target = viaTarget(next);
      const branch = top.params.get('branch') ?? '';
      if (!this.o.branches.verify(branch, branchFields(res.callId, res.getHeader('cseq') ?? '', target))) {
        return this.dropResponse('unknown-branch');
      }
      res.removeFirstValue('via');
      this.o.layer.sendStateless(res, target);
    } catch (err) {
      this.o.logger?.debug({ err }, 'dropped a stray response');
    }
  }

  private dropResponse(reason: 'unknown-branch' | 'not-ours'): void {
    this.o.metrics?.responseDropped?.(reason);
  }

  /** Number of forwardings in progress. */
  get pending(): number {
    return this.forwardings.size;
  }

  private onCancel(txn: ServerTransactionLike): void {
    const invite = this.o.layer.findInviteServerTransaction(txn.request);
    // §16.10: a CANCEL matching no transaction is answered 481; otherwise 200 and the branches are cancelled.
    if (!invite) {
      txn.respond(createResponse(txn.request, 481, { toTag: 'nocancel' }));
      return;
    }
    txn.respond(createResponse(txn.request, 200, { toTag: 'cancel' }));
    const fwd = this.forwardings.get(invite);
    fwd?.cancel(txn.request.getHeader('reason'));
  }

  private async route(txn: ServerTransactionLike): Promise<void> {
    const req = txn.request;
    // §16.3 step 3: Max-Forwards.
    const mf = req.maxForwards;
    if (mf === 0 && !(req.method === 'OPTIONS' && this.isLocalTarget(req))) {
      txn.respond(createResponse(req, 483, { toTag: 'mf' }));
      return;
    }
    // §16.3 step 4: loop detection via the branch hash we would compute now.
    const loopKey = this.loopKey(req);
    if (req.via.some((v) => this.o.identity.isOurHost(v.host) && (v.params.get('branch') ?? '').startsWith(loopKey))) {
      txn.respond(createResponse(req, 482, { toTag: 'loop' }));
      return;
    }
    // §16.3 step 2: a Request-URI scheme we cannot route is 416 (RFC 4475 §3.3.1 unkscm).
    const scheme = req.requestUri.scheme;
    if (scheme !== 'sip' && scheme !== 'sips') {
      txn.respond(createResponse(req, 416, { toTag: 'scheme' }));
      return;
    }
    // §16.3 step 6: Proxy-Require options we do not support are 420 with Unsupported (RFC 4475 §3.3.4 bext01).
    const unsupported = req
      .getHeaders('proxy-require')
      .flatMap((v) => v.split(','))
      .map((o) => o.trim().toLowerCase())
      .filter((o) => o.length > 0 && !SUPPORTED_OPTIONS.has(o));
    if (unsupported.length > 0) {
      txn.respond(createResponse(req, 420, { toTag: 'ext', headers: [['Unsupported', unsupported.join(', ')]] }));
      return;
    }
    const info = this.preprocessRoutes(req);
    const inDialog = req.to.params.has('tag');
    if (info.pathTarget !== undefined && !inDialog) return this.routeFromNode(txn, info.pathTarget);
    if (inDialog) return this.routeInDialog(txn, info);
    if (info.flowTarget === undefined && req.getHeaders('route').length === 0) {
      // Keep-alive OPTIONS to the server or to a served domain (no user part) are answered here, unauthenticated.
      const target = req.requestUri;
      const toServedDomain =
        req.method === 'OPTIONS' && target.user === undefined && (await this.o.directory.isLocalDomain(target.host));
      if (toServedDomain || this.isLocalTarget(req)) return this.answerLocally(txn);
    }
    return this.routeToUser(txn, loopKey);
  }

  /** Requests addressed to the server itself (keep-alive OPTIONS and the like). */
  private answerLocally(txn: ServerTransactionLike): void {
    const req = txn.request;
    if (req.method === 'OPTIONS') {
      txn.respond(
        createResponse(req, 200, {
          toTag: 'opt',
          headers: [
            ['Allow', ALLOWED_METHODS],
            ['Accept', 'application/sdp'],
            ['Supported', 'path, outbound'],
          ],
        }),
      );
      return;
    }
    txn.respond(
      createResponse(req, req.method === 'ACK' ? 200 : 405, {
        toTag: 'local',
        headers: [['Allow', 'OPTIONS, REGISTER']],
      }),
    );
  }

  /** §16.4: pops our own Route entries; a flow token in the last one says where to go. */
  private preprocessRoutes(req: SipRequest): RouteInfo {
    let flow: SendTarget | undefined;
    let pathTarget: SendTarget | undefined;
    let routedByUs = false;
    // Strict routing by the previous hop: the Request-URI is ours, the real one is the last Route.
    const ruri = req.requestUri;
    if (this.o.identity.isUs(ruri) && ruri.params.has('lr') && req.getHeaders('route').length > 0) {
      const routes = req.getHeaders('route');
      const last = routes[routes.length - 1]!;
      req.uri = parseRouteUri(last);
      req.removeHeader('route');
      for (const r of routes.slice(0, -1)) req.appendHeader('Route', r);
      routedByUs = true;
      flow = this.tokenTarget(ruri) ?? flow;
    }
    for (;;) {
      const top = req.routes[0];
      if (!top) break;
      const u = parseUri(top.uri);
      if (!this.o.identity.isUs(u)) break;
      req.removeFirstValue('route');
      routedByUs = true;
      const byPath = u.user === undefined ? undefined : this.o.pathTokens?.decode(u.user);
      if (byPath !== undefined) pathTarget = byPath;
      else flow = this.tokenTarget(u) ?? flow;
    }
    return { flowTarget: flow, routedByUs, pathTarget };
  }

  private tokenTarget(u: SipUri): SendTarget | undefined {
    return u.user === undefined ? undefined : this.o.flowTokens.decode(u.user);
  }

  /**
   * RFC 3327 §5.4 / RFC 5626 §5.3: another node of the cluster routed a request to a binding whose
   * flow this node holds (our Path entry): sent on that flow, Record-Routed both ways so the
   * dialog's later requests pass here too. A flow that closed is 430 Flow Failed.
   */
  private routeFromNode(txn: ServerTransactionLike, target: SendTarget): void {
    const req = txn.request;
    if (target.protocol !== 'udp' && !this.o.layer.isFlowOpen(target)) {
      txn.respond(createResponse(req, 430, { reason: 'Flow Failed', toTag: 'flow' }));
      return;
    }
    decrementMaxForwards(req);
    if (DIALOG_CREATING.has(req.method)) {
      req.prependHeader('Record-Route', this.recordRoute(flowTarget(txn.flow)));
      req.prependHeader('Record-Route', this.recordRoute(target));
    }
    req.prependHeader('Via', this.viaValue(target, newBranch()));
    const fwd = new Forwarding({ layer: this.o.layer, server: txn, ringTimeoutMs: this.o.ringTimeoutMs });
    this.track(txn, fwd);
    fwd.addBranch(req, target, describeTarget(target));
  }

  /** In-dialog requests follow the route set we Record-Routed (§16.12 / §12.2). */
  private async routeInDialog(txn: ServerTransactionLike, info: RouteInfo): Promise<void> {
    const req = txn.request;
    // Only our own Record-Route (with its signed flow token) makes us route a dialog; a bare Route
    // naming us would otherwise turn the proxy into an unauthenticated relay to any address.
    if (info.flowTarget === undefined) {
      txn.respond(createResponse(req, 404, { reason: 'Not a dialog routed here' }));
      return;
    }
    const target = await this.nextHop(req, info);
    if (!target) {
      // RFC 5626 §5.3: the flow a dialog peer used is gone. A BYE still ends the call (and writes its CDR).
      if (req.method === 'BYE') this.endCallByBye(req);
      txn.respond(createResponse(req, 430, { reason: 'Flow Failed' }));
      return;
    }
    let responseFilter;
    if (this.anchoring?.has(req.callId)) {
      try {
        responseFilter = await this.anchoring.inDialog(req);
      } catch (err) {
        this.o.logger?.warn({ err, callId: req.callId }, 'a re-offer could not go through rtpengine');
        const why = err instanceof Error ? err.message : 'media relay failed';
        txn.respond(createResponse(req, 488, { headers: mediaRefusal(why) }));
        return;
      }
    }
    if (req.method === 'BYE') this.endCallByBye(req);
    else this.o.calls.touch(req.callId);
    decrementMaxForwards(req);
    req.prependHeader('Via', this.viaValue(target, newBranch()));
    const fwd = new Forwarding({ layer: this.o.layer, server: txn, responseFilter });
    this.track(txn, fwd);
    fwd.addBranch(req, target, describeTarget(target));
  }

  /** The next hop for a routed request: remaining Route, else our flow token, else the Request-URI. */
  private async nextHop(req: SipRequest, info: RouteInfo): Promise<SendTarget | undefined> {
    const next = req.routes[0];
    if (next) return resolveUriTarget(parseUri(next.uri));
    if (info.flowTarget) {
      if (info.flowTarget.protocol === 'udp' || this.o.layer.isFlowOpen(info.flowTarget)) return info.flowTarget;
      const rebound = this.reboundFlow(req);
      if (rebound) return rebound;
    }
    return resolveUriTarget(req.requestUri);
  }

  /**
   * The flow our Record-Route named has closed. RFC 5626 §5.3 answers 430 then, but a client that
   * reconnected (a WebSocket after a network change) and registered the same Contact again is
   * reachable over its new flow: the dialog's route set cannot change (§12.2), so we follow the
   * binding. The Request-URI is that Contact (the remote target) and the To URI its AOR.
   */
  private reboundFlow(req: SipRequest): SendTarget | undefined {
    const to = parseUri(req.to.uri);
    const target = req.requestUri;
    if (to.user === undefined || target.user === undefined) return undefined;
    for (const b of this.o.location.lookup(`${to.user}@${to.host.toLowerCase()}`)) {
      if (b.flowId === undefined || b.path.length > 0) continue;
      const contact = parseUri(b.contactUri);
      if (contact.user !== target.user || contact.host.toLowerCase() !== target.host.toLowerCase()) continue;
      const flow: SendTarget = {
        protocol: b.transport,
        address: b.sourceAddress,
        port: b.sourcePort,
        flowId: b.flowId,
      };
      if (this.o.layer.isFlowOpen(flow)) return flow;
    }
    return undefined;
  }

  /** Out-of-dialog requests to a local user: authenticate the caller, find bindings, fork. */
  private async routeToUser(txn: ServerTransactionLike, loopKey: string): Promise<void> {
    const req = txn.request;
    const flow = txn.flow;
    const from = parseUri(req.from.uri);
    if (from.user === undefined) {
      txn.respond(createResponse(req, 403, { reason: 'From has no user', toTag: 'auth' }));
      return;
    }
    const callerDomain = from.host;
    const caller = unescapeUser(from.user);
    if (!(await this.o.directory.isLocalDomain(callerDomain))) {
      txn.respond(createResponse(req, 403, { reason: 'Caller domain not served here', toTag: 'auth' }));
      return;
    }
    if (!(await this.authenticate(txn, callerDomain, caller))) return;

    const ruri = req.requestUri;
    if (ruri.scheme !== 'sip' && ruri.scheme !== 'sips') {
      txn.respond(createResponse(req, 416, { toTag: 'route' }));
      return;
    }
    let domain: string;
    if (this.o.identity.isOurHost(ruri.host) || ruri.host === callerDomain) domain = callerDomain;
    else if (await this.o.directory.isLocalDomain(ruri.host)) domain = ruri.host;
    else {
      txn.respond(createResponse(req, 403, { reason: 'No route to external domain', toTag: 'route' }));
      return;
    }
    // Calls stay inside the caller's tenant.
    if (domain !== callerDomain) {
      txn.respond(createResponse(req, 403, { reason: 'Calls outside your domain are not allowed', toTag: 'route' }));
      return;
    }
    if (ruri.user === undefined) {
      this.answerLocally(txn);
      return;
    }
    const callee = unescapeUser(ruri.user);
    const isInvite = req.method === 'INVITE';
    // Read before any response goes out: the transaction then packs the request (compact()), and reading
    // it afterwards would unpack every header again.
    const callId = req.callId;
    if (isInvite) {
      this.o.calls.start({
        callId,
        domain,
        caller: `${caller}@${callerDomain}`,
        callee: `${callee}@${domain}`,
        callerTag: req.from.params.get('tag') ?? '',
        callerDevice: describeDevice(req.getHeader('user-agent'), flowTarget(flow)),
      });
    }
    const respondFinal = (res: SipResponse) => {
      txn.respond(res);
      if (isInvite) this.o.calls.end(callId, { status: res.status, reason: res.reason });
    };

    const bindings = this.o.location.lookup(`${callee}@${domain}`);
    const group = bindings.length === 0 ? await this.o.groups?.resolveGroup(domain, callee) : undefined;
    if (group) {
      await this.routeToGroup(txn, loopKey, domain, caller, group, respondFinal);
      return;
    }
    if (bindings.length === 0) {
      const exists = await this.o.directory.userExists(domain, callee);
      respondFinal(
        createResponse(req, exists ? 480 : 404, { toTag: 'route', reason: exists ? 'Not registered' : undefined }),
      );
      return;
    }

    const branches: Array<{ request: SipRequest; target: SendTarget; device: string }> = [];
    for (const b of bindings) {
      const branch = await this.branchFor(req, flow, b, loopKey);
      if (branch) branches.push({ ...branch, device: describeDevice(b.userAgent, branch.target) });
    }
    if (branches.length === 0) {
      respondFinal(createResponse(req, 480, { toTag: 'route', reason: 'No reachable device' }));
      return;
    }
    const media = await this.anchorBranches(txn, callId, branches);
    if (media.length === 0) {
      respondFinal(createResponse(req, 488, { toTag: 'media', headers: mediaRefusal(this.mediaUnavailable()) }));
      return;
    }
    const fwd = new Forwarding({
      layer: this.o.layer,
      server: txn,
      ringTimeoutMs: this.o.ringTimeoutMs,
      observer: isInvite ? this.callObserver(callId) : undefined,
      responseFilter: isInvite ? this.anchoring?.inviteFilter(callId) : undefined,
    });
    this.track(txn, fwd);
    for (const branch of media) fwd.addBranch(branch.request, branch.target, branch.device);
  }

  /** The branches that may be sent: those needing rtpengine are anchored, or left out when none can take them. */
  private async anchorBranches<B extends { request: SipRequest; target: SendTarget }>(
    txn: ServerTransactionLike,
    callId: string,
    branches: B[],
  ): Promise<B[]> {
    const anchoring = this.anchoring;
    if (!anchoring || txn.request.method !== 'INVITE') return branches;
    const kept: B[] = [];
    for (const b of branches) if (await anchoring.offerBranch(txn, callId, b)) kept.push(b);
    return kept;
  }

  private mediaUnavailable(): string {
    return this.o.media?.unavailableReason ?? 'media relay (rtpengine) is not available';
  }

  /**
   * A call to a ring group: every member's bindings at once (simultaneous), or member after
   * member for the group's ring time each (sequential). The caller is not rung; unregistered
   * members are skipped. First to answer wins (the others are cancelled, §16.7 step 10).
   */
  private async routeToGroup(
    txn: ServerTransactionLike,
    loopKey: string,
    domain: string,
    caller: string,
    group: RingGroup,
    respondFinal: (res: SipResponse) => void,
  ): Promise<void> {
    const req = txn.request;
    const members = group.members.filter((m) => m !== caller);
    const stages = (group.strategy === 'simultaneous' ? [members] : members.map((m) => [m]))
      .map((exts) => exts.flatMap((m) => this.o.location.lookup(`${m}@${domain}`)))
      .filter((bindings) => bindings.length > 0);
    if (stages.length === 0) {
      respondFinal(createResponse(req, 480, { toTag: 'route', reason: 'No group member is registered' }));
      return;
    }
    const ringMs = group.ringTimeoutS * 1000;
    const isInvite = req.method === 'INVITE';
    let next = 0;
    const callId = req.callId;
    let refusedForMedia = false;
    const addStage = async (): Promise<boolean> => {
      while (next < stages.length) {
        const branches: Array<{ request: SipRequest; target: SendTarget; device: string }> = [];
        for (const b of stages[next++]!) {
          const branch = await this.branchFor(req, txn.flow, b, loopKey);
          if (branch) branches.push({ ...branch, device: describeDevice(b.userAgent, branch.target) });
        }
        const media = await this.anchorBranches(txn, callId, branches);
        if (media.length < branches.length) refusedForMedia = true;
        for (const branch of media) fwd.addBranch(branch.request, branch.target, branch.device);
        if (media.length > 0) return true;
      }
      return false;
    };
    const fwd: Forwarding = new Forwarding({
      layer: this.o.layer,
      server: txn,
      ringTimeoutMs: ringMs * stages.length + 1000,
      observer: isInvite ? this.callObserver(callId) : undefined,
      responseFilter: isInvite ? this.anchoring?.inviteFilter(callId) : undefined,
      ...(group.strategy === 'sequential' && stages.length > 1 ? { nextStage: addStage, stageTimeoutMs: ringMs } : {}),
    });
    this.track(txn, fwd);
    if (!(await addStage())) {
      if (refusedForMedia)
        fwd.reject(createResponse(req, 488, { toTag: 'media', headers: mediaRefusal(this.mediaUnavailable()) }));
      else fwd.cancel();
    }
  }

  /** Challenges or verifies the caller (§22.3, 407); false when a response was sent. */
  private async authenticate(txn: ServerTransactionLike, realm: string, user: string): Promise<boolean> {
    const req = txn.request;
    const picked = pickParsedCredentials(req.getHeaders('proxy-authorization'), realm);
    const result = await this.o.auth.authenticate({
      method: req.method,
      credentials: picked?.header,
      domain: realm,
      user,
      flow: txn.flow,
    });
    if (result.ok) {
      // Our credentials are consumed here, not passed to the callee.
      if (picked !== undefined) {
        const rest = req.getHeaders('proxy-authorization').filter((v) => v !== picked.value);
        req.removeHeader('proxy-authorization');
        for (const v of rest) req.appendHeader('Proxy-Authorization', v);
      }
      return true;
    }
    if (result.status !== 'challenge') {
      const reason = result.status === 400 ? 'Malformed Proxy-Authorization header' : result.reason;
      txn.respond(createResponse(req, result.status, { reason, toTag: 'auth' }));
      return false;
    }
    const challenges = this.o.auth.challenges(realm, txn.flow, result.stale);
    const challenge = createResponse(req, 407, {
      toTag: 'auth',
      headers: challenges.map((c) => ['Proxy-Authenticate', c] as const),
    });
    // No credentials or a stale nonce: the same request would get the same challenge again, so no
    // transaction waits for it (RFC 3261 §8.2.7), as the registrar's 401. A failed attempt was counted,
    // so its retransmissions must be absorbed: that challenge goes through the transaction.
    if (result.absorb) txn.respond(challenge);
    else txn.respondStateless(challenge);
    return false;
  }

  /** What the call tracker hears of a forwarded INVITE (the Call-ID is taken before the request is packed). */
  private callObserver(callId: string): ForwardingObserver {
    return {
      onAnswered: (_res, device) => this.o.calls.answered(callId, device),
      onFailed: (res) => this.o.calls.end(callId, { status: res.status, reason: res.reason }),
    };
  }

  /** Builds the request for one binding (§16.6): target URI, Path routes, Record-Route, Max-Forwards, Via. */
  private async branchFor(
    req: SipRequest,
    inbound: Flow,
    b: Binding,
    loopKey: string,
  ): Promise<{ request: SipRequest; target: SendTarget } | undefined> {
    if (this.o.reachable?.(b) === false) return undefined;
    const out = new SipRequest(
      req.method,
      b.contactUri,
      req.headers.map((h) => ({ ...h })),
      req.body,
    );
    let target: SendTarget = {
      protocol: b.transport,
      address: b.sourceAddress,
      port: b.sourcePort,
      flowId: b.flowId ?? undefined,
    };
    // RFC 3327 §5.4: the stored Path becomes a preloaded Route set.
    const path = b.path.filter((p) => !this.o.identity.isUs(parseUri(parseRouteUri(p))));
    if (path.length > 0) {
      for (const p of [...path].reverse()) out.prependHeader('Route', p);
      const hop = await resolveUriTarget(parseUri(parseRouteUri(path[0]!)));
      if (!hop) return undefined;
      target = hop;
    } else if (target.flowId !== undefined && !this.o.layer.isFlowOpen(target)) {
      // A stream flow that closed: try the Contact itself unless it is not dialable (.invalid).
      const viaContact = await resolveUriTarget(parseUri(b.contactUri));
      if (!viaContact || viaContact.protocol === 'ws' || viaContact.protocol === 'wss') return undefined;
      target = viaContact;
    }
    decrementMaxForwards(out);
    if (DIALOG_CREATING.has(req.method)) {
      // RFC 5658 double Record-Route: the entry facing each side carries that side's flow token.
      out.prependHeader('Record-Route', this.recordRoute(flowTarget(inbound)));
      out.prependHeader('Record-Route', this.recordRoute(target));
    }
    // Signed, so that a 2xx retransmitted after the transaction ended can be told from a forgery.
    const fields = branchFields(req.callId, req.getHeader('cseq') ?? '', viaTarget(req.topVia));
    out.prependHeader('Via', this.viaValue(target, this.o.branches.sign(loopKey, fields)));
    return { request: out, target };
  }

  private recordRoute(side: SendTarget): string {
    const token = this.o.flowTokens.encode(side);
    return `<sip:${token}@${this.o.identity.sentBy(side.protocol)};transport=${side.protocol};lr>`;
  }

  private viaValue(target: SendTarget, branch: string): string {
    return `SIP/2.0/${target.protocol.toUpperCase()} ${this.o.identity.sentBy(target.protocol)};branch=${branch};rport`;
  }

  /** §16.6 step 8 / §16.3 step 4: a branch prefix that is the same whenever the same request comes back. */
  private loopKey(req: SipRequest): string {
    const key = `${req.uri}|${req.from.params.get('tag') ?? ''}|${req.to.params.get('tag') ?? ''}|${req.callId}|${req.cseq.seq}|${req.getHeader('proxy-require') ?? ''}`;
    return BRANCH_MAGIC_COOKIE + 'L' + hash(key);
  }

  /** True when the Request-URI addresses the server or a served domain without a user. */
  private isLocalTarget(req: SipRequest): boolean {
    const u = req.requestUri;
    if (u.scheme !== 'sip' && u.scheme !== 'sips') return false;
    return (
      this.o.identity.isUs(u) && (u.user === undefined || this.o.identity.isOurHost(u.host)) && u.user === undefined
    );
  }

  private endCallByBye(req: SipRequest): void {
    const tag = req.from.params.get('tag') ?? '';
    this.o.calls.end(req.callId, { status: 200, reason: 'BYE', hangupByTag: tag });
  }

  private track(txn: ServerTransactionLike, fwd: Forwarding): void {
    this.forwardings.set(txn, fwd);
    fwd.onDone = () => this.forwardings.delete(txn);
  }
}

function decrementMaxForwards(req: SipRequest): void {
  const mf = req.maxForwards;
  req.setHeader('Max-Forwards', String(mf === undefined ? 70 : Math.max(0, mf - 1)));
}

/** The URI inside a Route/Path value. */
function parseRouteUri(value: string): string {
  const lt = value.indexOf('<');
  const gt = value.indexOf('>', lt);
  return lt >= 0 && gt > lt ? value.slice(lt + 1, gt) : value.split(';')[0]!.trim();
}

/** §18.2.2 / RFC 3581 §4: where a response goes by its Via. */
function viaTarget(v: Via): SendTarget {
  const protocol = v.transport.toLowerCase() as SendTarget['protocol'];
  const received = v.params.get('received');
  const rport = v.params.get('rport');
  const address = received ?? v.host.replace(/^\[|\]$/g, '');
  const port =
    rport !== undefined && rport !== null && /^\d+$/.test(rport) ? Number(rport) : (v.port ?? defaultPort(protocol));
  return { protocol, address, port };
}

/** What a signed branch covers: the dialog's Call-ID, the CSeq, and where the response goes. */
function branchFields(callId: string, cseq: string, upstream: SendTarget): BranchFields {
  return { callId, cseq: cseq.replace(/\s+/g, ' ').trim(), upstream: describeTarget(upstream) };
}

function describeTarget(t: SendTarget): string {
  return `${t.protocol}:${t.address}:${t.port}`;
}

function describeDevice(userAgent: string | undefined, t: SendTarget): string {
  return userAgent ? `${userAgent} @ ${describeTarget(t)}` : describeTarget(t);
}

function hash(s: string): string {
  // One call, no Hash object (crypto.hash, Node 20.12): two per call scenario (loop key, ACK branch).
  return oneShotHash('sha1', s, 'base64url').slice(0, 12);
}

function safeCallId(req: SipRequest): string | undefined {
  try {
    return req.callId;
  } catch {
    return undefined;
  }
}
