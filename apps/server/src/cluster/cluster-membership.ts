/**
 * Cluster membership over Redis: each node writes its advert under `<prefix>node:<id>` with a
 * time to live of three heartbeats and refreshes it every heartbeat; every node reads the others'
 * each heartbeat. A node whose advert has expired (three beats missed: SIGKILL, a hung process,
 * a cut network) is down, and its flows with it. No consensus is needed: the record is the truth.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';

/** What a node says about itself. */
export interface NodeAdvert {
  id: string;
  run: string;
  /** Host other nodes reach this node's SIP listeners on (HANDSET_PUBLIC_HOST). */
  host: string;
  /** SIP ports by transport. */
  sip: Partial<Record<'udp' | 'tcp' | 'tls' | 'ws' | 'wss', number>>;
  http: number;
  version: string;
  startedAt: string;
}

/** A member as this node sees it. */
export interface ClusterMember extends NodeAdvert {
  alive: boolean;
  /** Last heartbeat seen, ms since the epoch. */
  lastSeen: number;
}

/** Membership changes. */
export type MembershipEvents = {
  /** A node (run) started beating. */
  up: [NodeAdvert];
  /** A node's run stopped beating (or was replaced by a new run of the same id). */
  down: [NodeAdvert];
};

/** Options of {@link ClusterMembership}. */
export interface ClusterMembershipOptions {
  redis: Redis;
  prefix: string;
  self: NodeAdvert;
  /** Default 1000 ms; a node is down after 3 missed beats. */
  heartbeatMs?: number;
  /** Down members are forgotten after this long (default one day). */
  forgetAfterMs?: number;
  clock?: () => number;
  logger?: Logger | undefined;
}

/** Largest advert taken from Redis (anything bigger is not one of ours). */
const MAX_ADVERT_BYTES = 8192;

/** This node's view of the cluster, kept current by a heartbeat. */
export class ClusterMembership extends TypedEmitter<MembershipEvents> {
  private readonly members = new Map<string, ClusterMember>();
  private readonly heartbeatMs: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: ClusterMembershipOptions) {
    super();
    this.heartbeatMs = o.heartbeatMs ?? 1000;
    this.clock = o.clock ?? Date.now;
    this.onListenerError = (err, event) => o.logger?.error({ err, event }, 'membership listener failed');
  }

  /** This node's advert. */
  get self(): NodeAdvert {
    return this.o.self;
  }

  /** Announces this node, reads the others, and starts the heartbeat. */
  async start(): Promise<void> {
    const previous = await this.o.redis.get(this.nodeKey(this.o.self.id));
    const prior = previous === null ? undefined : parseAdvert(previous);
    if (prior !== undefined && prior.run !== this.o.self.run)
      this.o.logger?.warn(
        { node: this.o.self.id, previousRun: prior.run },
        'this node id was alive moments ago: a restart, or another process with the same HANDSET_NODE_ID (give each node its own)',
      );
    await this.beat();
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Every member known, this node included, sorted by id. */
  list(): ClusterMember[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** True when the node `id` is beating with run `run` (this node always is). */
  isAlive(id: string, run: string): boolean {
    if (id === this.o.self.id) return run === this.o.self.run;
    const m = this.members.get(id);
    return m !== undefined && m.alive && m.run === run;
  }

  /** The live member `id`, if any. */
  member(id: string): ClusterMember | undefined {
    const m = this.members.get(id);
    return m?.alive === true ? m : undefined;
  }

  /** True when this node is the live member with the smallest id: it does the cluster's chores (one node, not all). */
  get isLeader(): boolean {
    for (const m of this.members.values()) if (m.alive && m.id < this.o.self.id) return false;
    return true;
  }

  /** Stops beating and withdraws the advert, so the others see this node leave at once; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.beating;
    try {
      // Only our own run's advert: a newer run of the same id may already be up.
      await this.o.redis.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1",
        1,
        this.nodeKey(this.o.self.id),
        JSON.stringify(this.o.self),
      );
    } catch (err) {
      this.o.logger?.warn({ err }, 'could not withdraw the node advert');
    }
  }

  private tick(): void {
    if (this.beating !== undefined || this.closed) return;
    this.beating = this.beat()
      .catch((err: unknown) => this.o.logger?.warn({ err }, 'cluster heartbeat failed'))
      .finally(() => (this.beating = undefined));
  }

  /** Writes our advert, then reads everyone's. */
  private async beat(): Promise<void> {
    const now = this.clock();
    const self = JSON.stringify(this.o.self);
    await this.o.redis
      .multi()
      .set(this.nodeKey(this.o.self.id), self, 'PX', this.heartbeatMs * 3)
      .hset(this.indexKey(), this.o.self.id, String(now))
      .exec();
    const seen = await this.o.redis.hgetall(this.indexKey());
    const ids = Object.keys(seen).filter((id) => id.length <= 63);
    const adverts = ids.length === 0 ? [] : await this.o.redis.mget(ids.map((id) => this.nodeKey(id)));
    const forgetBefore = now - (this.o.forgetAfterMs ?? 86_400_000);
    const stale: string[] = [];
    ids.forEach((id, i) => {
      const raw = adverts[i];
      const advert = raw === null || raw === undefined ? undefined : parseAdvert(raw);
      if (advert !== undefined && advert.id === id) this.saw(advert, now);
      else this.lost(id, Number(seen[id]));
      if (advert === undefined && Number(seen[id]) < forgetBefore) stale.push(id);
    });
    if (stale.length > 0) {
      await this.o.redis.hdel(this.indexKey(), ...stale);
      for (const id of stale) this.members.delete(id);
    }
  }

  private saw(advert: NodeAdvert, now: number): void {
    const known = this.members.get(advert.id);
    if (known !== undefined && known.alive && known.run !== advert.run) this.emit('down', strip(known));
    this.members.set(advert.id, { ...advert, alive: true, lastSeen: now });
    if (known === undefined || !known.alive || known.run !== advert.run) {
      if (advert.id !== this.o.self.id) this.o.logger?.info({ node: advert.id, run: advert.run }, 'cluster node up');
      this.emit('up', advert);
    }
  }

  private lost(id: string, lastSeen: number): void {
    const known = this.members.get(id);
    if (known === undefined) return;
    if (!known.alive) return;
    known.alive = false;
    known.lastSeen = Number.isFinite(lastSeen) ? lastSeen : known.lastSeen;
    this.o.logger?.warn({ node: id, run: known.run }, 'cluster node down (heartbeat lost)');
    this.emit('down', strip(known));
  }

  private nodeKey(id: string): string {
    return `${this.o.prefix}node:${id}`;
  }

  private indexKey(): string {
    return `${this.o.prefix}nodes`;
  }
}

function strip(m: ClusterMember): NodeAdvert {
  const { alive: _alive, lastSeen: _lastSeen, ...advert } = m;
  return advert;
}

/** An advert read from Redis, or undefined when it is not one (foreign or damaged data is ignored). */
function parseAdvert(raw: string): NodeAdvert | undefined {
  if (raw.length > MAX_ADVERT_BYTES) return undefined;
  try {
    const a = JSON.parse(raw) as Partial<NodeAdvert>;
    if (typeof a.id !== 'string' || typeof a.run !== 'string' || typeof a.host !== 'string') return undefined;
    if (typeof a.sip !== 'object' || a.sip === null || typeof a.http !== 'number') return undefined;
    return a as NodeAdvert;
  } catch {
    return undefined;
  }
}
