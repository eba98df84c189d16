/**
 * This process as a node of a cluster (REDIS_URL): its identity, its membership, the shared
 * location, and cache invalidation between nodes. Loaded only when REDIS_URL is set (ioredis is
 * not loaded in a single-node server: see main.ts).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Binding } from '../registrar/binding.js';
import type { LocationService } from '../registrar/location-service.js';
import { ClusterMembership, type ClusterMember, type NodeAdvert } from './cluster-membership.js';
import type { NodeIdentity } from './node-identity.js';
import type { AuthFailureLimiterOptions } from '../registrar/auth-failure-limiter.js';
import { SharedAuthFailureLimiter } from './shared-auth-failure-limiter.js';
import { SharedLocation } from './shared-location.js';

/** Options of {@link ClusterNode.connect}. */
export interface ClusterNodeOptions {
  url: string;
  prefix: string;
  identity: NodeIdentity;
  heartbeatMs: number;
  logger?: Logger | undefined;
}

/** Heartbeats after a node is seen down before its flow bindings are removed (it may only have stalled). */
const DROP_AFTER_BEATS = 5;

/** Largest invalidation message taken from the channel. */
const MAX_INVALIDATION_BYTES = 512;

/** This node's part in the cluster; see the file comment. */
export class ClusterNode {
  private membership: ClusterMembership | undefined;
  private shared: SharedLocation | undefined;
  private limiter: SharedAuthFailureLimiter | undefined;
  private readonly invalidated = new Set<(domain: string | undefined) => void>();
  private readonly dropTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(
    private readonly o: ClusterNodeOptions,
    /** Commands (scripts, heartbeats). */
    readonly redis: Redis,
    /** Subscriptions (a subscribed connection cannot send commands). */
    private readonly sub: Redis,
  ) {
    sub.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  /** Connects to Redis; rejects with a message naming REDIS_URL when it cannot. */
  static async connect(o: ClusterNodeOptions): Promise<ClusterNode> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2 };
    const redis = new Redis(o.url, options);
    const sub = new Redis(o.url, options);
    for (const c of [redis, sub]) c.on('error', (err: Error) => o.logger?.warn({ err: err.message }, 'Redis error'));
    try {
      await Promise.all([redis.connect(), sub.connect()]);
    } catch (err) {
      redis.disconnect();
      sub.disconnect();
      throw new Error(`cannot reach Redis at REDIS_URL: ${(err as Error).message}`, { cause: err });
    }
    return new ClusterNode(o, redis, sub);
  }

  /** This node's id and run. */
  get identity(): NodeIdentity {
    return this.o.identity;
  }

  /**
   * Shares `replica` (a LocationService without persistence, whose sweep expires through
   * {@link expireBinding}) through Redis: subscribes, then reads every binding.
   */
  async shareLocation(replica: LocationService): Promise<SharedLocation> {
    const shared = new SharedLocation({
      redis: this.redis,
      prefix: this.o.prefix,
      node: this.o.identity,
      replica,
      logger: this.o.logger,
    });
    this.shared = shared;
    await this.sub.subscribe(shared.channel, this.invalidationChannel);
    const n = await shared.resync();
    this.o.logger?.info({ bindings: n }, 'shared location loaded');
    // After a reconnect, messages may have been lost: read everything again.
    let first = true;
    this.sub.on('ready', () => {
      if (first || this.closed) return;
      shared.resync().catch((err: unknown) => this.o.logger?.warn({ err }, 'shared location resync failed'));
    });
    first = false;
    return shared;
  }

  /** The brute-force limiter with counts and blocks shared by the cluster. */
  async sharedLimiter(options: AuthFailureLimiterOptions): Promise<SharedAuthFailureLimiter> {
    const limiter = new SharedAuthFailureLimiter({
      ...options,
      redis: this.redis,
      prefix: this.o.prefix,
      logger: this.o.logger,
    });
    this.limiter = limiter;
    await this.sub.subscribe(limiter.channel);
    return limiter;
  }

  /** The sweep's hook (LocationServiceOptions.expireVia). */
  expireBinding(binding: Binding): void {
    this.shared?.expire(binding);
  }

  /** Starts the heartbeat with this node's advert (once its listeners are known). */
  async join(advert: Omit<NodeAdvert, 'id' | 'run'>): Promise<void> {
    const membership = new ClusterMembership({
      redis: this.redis,
      prefix: this.o.prefix,
      self: { id: this.o.identity.id, run: this.o.identity.run, ...advert },
      heartbeatMs: this.o.heartbeatMs,
      logger: this.o.logger,
    });
    // A dead node's stream flows are gone: one node (the leader) removes the bindings on them. Not at
    // once: a node that only stalled (a long pause under load) and beats again keeps its bindings;
    // meanwhile they are unreachable (reachable() asks the membership).
    membership.on('down', (n) => {
      const timer = setTimeout(() => {
        this.dropTimers.delete(timer);
        if (this.closed || membership.isAlive(n.id, n.run)) return;
        if (!membership.isLeader || this.shared === undefined) return;
        this.shared
          .dropFlowsOf(n.id, n.run)
          .catch((err: unknown) => this.o.logger?.warn({ err, node: n.id }, 'could not drop a dead node bindings'));
      }, this.o.heartbeatMs * DROP_AFTER_BEATS);
      timer.unref();
      this.dropTimers.add(timer);
    });
    this.membership = membership;
    await membership.start();
  }

  /**
   * True when a binding can be reached: one on a stream flow only while the node (run) holding
   * the flow beats; a UDP binding always (any node can send to it directly).
   */
  reachable(b: Binding): boolean {
    if (b.node === undefined || b.run === undefined || b.flowId === undefined) return true;
    if (b.node === this.o.identity.id) return b.run === this.o.identity.run;
    return this.membership?.isAlive(b.node, b.run) ?? false;
  }

  /** The members this node knows (for /healthz). */
  members(): ClusterMember[] {
    return this.membership?.list() ?? [];
  }

  /** Tells every node (this one too) that a domain's directory data changed (undefined: everything). */
  invalidate(domain: string | undefined): void {
    if (this.closed) return;
    const message = JSON.stringify({ from: this.o.identity.run, domain: domain ?? null });
    this.redis
      .publish(this.invalidationChannel, message)
      .catch((err: unknown) => this.o.logger?.warn({ err }, 'could not publish a directory invalidation'));
  }

  /** Called when another node changed a domain's directory data. */
  onInvalidate(listener: (domain: string | undefined) => void): () => void {
    this.invalidated.add(listener);
    return () => this.invalidated.delete(listener);
  }

  /** Leaves the cluster and closes both connections; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.dropTimers) clearTimeout(t);
    this.dropTimers.clear();
    await this.membership?.close();
    this.invalidated.clear();
    await Promise.allSettled([this.sub.quit(), this.redis.quit()]);
  }

  private get invalidationChannel(): string {
    return `${this.o.prefix}invalidate`;
  }

  private receive(channel: string, message: string): void {
    if (channel === this.shared?.channel) {
      this.shared.handleMessage(message);
      return;
    }
    if (channel === this.limiter?.channel) {
      this.limiter.handleMessage(message);
      return;
    }
    if (channel !== this.invalidationChannel || message.length > MAX_INVALIDATION_BYTES) return;
    let m: { from?: unknown; domain?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null || m.from === this.o.identity.run) return;
    const domain = typeof m.domain === 'string' ? m.domain : undefined;
    for (const l of this.invalidated) l(domain);
  }
}
