/**
 * The location service (RFC 3261 §10.3): bindings of AORs to contacts, held in memory for
 * fast lookup, persisted write-behind so they survive a restart, expired on time.
 */
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Binding } from './binding.js';

/** Every change to a binding, as the console and the API see it. */
export type LocationEvents = {
  registered: [Binding];
  refreshed: [Binding];
  unregistered: [Binding];
  expired: [Binding];
};

/** Where bindings are persisted (the BindingRepository over the store). */
export interface BindingPersistence {
  upsertMany(bindings: readonly Binding[]): Promise<void>;
  removeMany(keys: ReadonlyArray<{ aor: string; key: string }>): Promise<void>;
  loadAll(now: number): Promise<Binding[]>;
  /** Reclaims the space of rows replaced since the last call (where the database does not do it itself). */
  maintain?(): Promise<void>;
}

/** Options for LocationService. */
export interface LocationServiceOptions {
  persistence?: BindingPersistence | undefined;
  clock?: () => number;
  logger?: Logger | undefined;
  /** How often expired bindings are swept (default 1000 ms). */
  sweepIntervalMs?: number;
  /** How often queued changes are written (default 250 ms). */
  flushIntervalMs?: number;
  /**
   * How much earlier than in memory a binding may expire in the store (default 60 s, and never
   * more than a tenth of the binding's interval). A refresh that changes nothing but the expiry,
   * Call-ID and CSeq, and moves the expiry by less than this from what is stored, is not written at
   * once: it is written when a later change needs writing, or at `close()`. After a crash (no
   * `close()`), such a binding comes back with the expiry, Call-ID and CSeq of its last write.
   * 0 writes every refresh.
   */
  maxStoredExpiryLagMs?: number;
  /** Rows written between two `persistence.maintain()` calls (default: 10,000, or the number of bindings if more). */
  maintainEveryRows?: number;
  /**
   * Cluster: the sweep hands each binding that looks expired here to this function instead of
   * removing it, since the shared record (maybe refreshed through another node) decides.
   */
  expireVia?: ((binding: Binding) => void) | undefined;
  /** Cluster: this node's run; bindings of other runs are not indexed by flow (their flow ids name another process's flows). */
  run?: string | undefined;
}

type PendingChange = { op: 'upsert'; binding: Binding } | { op: 'remove'; aor: string; key: string };

/** In-memory location service with write-behind persistence and typed change events. */
export class LocationService extends TypedEmitter<LocationEvents> {
  private readonly byAor = new Map<string, Map<string, Binding>>();
  private readonly byFlow = new Map<string, Set<Binding>>();
  private readonly pending = new Map<string, PendingChange>();
  /** What the store holds, by `aor\nkey`: the binding as last written (or loaded). */
  private readonly stored = new Map<string, Binding>();
  /** Refreshes not written yet (see maxStoredExpiryLagMs), by `aor\nkey`. */
  private readonly deferred = new Map<string, Binding>();
  private readonly maxLagMs: number;
  private rowsSinceMaintenance = 0;
  /** The changes of the write in progress, by `aor\nkey` (never deferred against: the store is about to change). */
  private writing: ReadonlyMap<string, PendingChange> | undefined;
  private readonly clock: () => number;
  private readonly persistence: BindingPersistence | undefined;
  private readonly logger: Logger | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LocationServiceOptions = {}) {
    super();
    this.clock = options.clock ?? Date.now;
    this.persistence = options.persistence;
    this.logger = options.logger;
    this.maxLagMs = options.maxStoredExpiryLagMs ?? 60_000;
    this.onListenerError = (err, event) => this.logger?.error({ err, event }, 'location event listener failed');
  }

  /** Loads persisted bindings that have not expired and starts the expiry sweep. */
  async start(): Promise<void> {
    if (this.persistence) {
      for (const b of await this.persistence.loadAll(this.clock())) {
        this.index(b);
        this.stored.set(storeKey(b.aor, b.key), b);
      }
    }
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 1000);
    this.sweepTimer.unref();
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 250);
    this.flushTimer.unref();
  }

  /** Live bindings of an AOR (`user@domain`), most recently registered first. */
  lookup(aor: string): Binding[] {
    const map = this.byAor.get(aor);
    if (!map) return [];
    const now = this.clock();
    const out: Binding[] = [];
    for (const b of map.values()) if (b.expiresAt > now) out.push(b);
    return out.sort((a, b) => b.receivedAt - a.receivedAt);
  }

  /**
   * The bindings of an AOR by key as held, expired ones not yet swept included, unsorted: for a
   * check on every REGISTER that must not pay for lookup()'s copy and sort. Do not modify.
   */
  bindingsByKey(aor: string): ReadonlyMap<string, Binding> | undefined {
    return this.byAor.get(aor);
  }

  /** One binding by AOR and key. */
  get(aor: string, key: string): Binding | undefined {
    const b = this.byAor.get(aor)?.get(key);
    return b && b.expiresAt > this.clock() ? b : undefined;
  }

  /** Bindings that arrived over a connection-oriented flow. */
  bindingsOnFlow(flowId: string): Binding[] {
    return [...(this.byFlow.get(flowId) ?? [])];
  }

  /** Number of live bindings. */
  get size(): number {
    let n = 0;
    for (const m of this.byAor.values()) n += m.size;
    return n;
  }

  /** Number of AORs with at least one binding. */
  get aorCount(): number {
    return this.byAor.size;
  }

  /** Adds or refreshes a binding; emits `registered` or `refreshed`. */
  save(binding: Binding): void {
    const existing = this.byAor.get(binding.aor)?.get(binding.key);
    if (existing) this.unindex(existing);
    this.index(binding);
    const k = storeKey(binding.aor, binding.key);
    if (this.isDeferrable(k, this.stored.get(k), binding)) {
      this.deferred.set(k, binding);
      this.pending.delete(k);
    } else {
      this.deferred.delete(k);
      this.queue(k, { op: 'upsert', binding });
    }
    this.emit(existing ? 'refreshed' : 'registered', binding);
  }

  /** Removes a binding; emits `unregistered` (or `expired`). */
  remove(binding: Binding, reason: 'unregistered' | 'expired' = 'unregistered'): void {
    const current = this.byAor.get(binding.aor)?.get(binding.key);
    if (current !== binding) return;
    this.unindex(binding);
    const k = storeKey(binding.aor, binding.key);
    this.deferred.delete(k);
    this.queue(k, { op: 'remove', aor: binding.aor, key: binding.key });
    this.emit(reason, binding);
  }

  /** Removes every binding whose expiry has passed; emits `expired` for each (or hands it to `expireVia`). */
  sweep(): void {
    const now = this.clock();
    const via = this.options.expireVia;
    for (const map of this.byAor.values()) {
      for (const b of map.values()) {
        if (b.expiresAt > now) continue;
        if (via !== undefined) via(b);
        else this.remove(b, 'expired');
      }
    }
  }

  /** Holds a binding written elsewhere (another node of a cluster): indexed; no event, nothing persisted. */
  replicate(binding: Binding): void {
    const existing = this.byAor.get(binding.aor)?.get(binding.key);
    if (existing) this.unindex(existing);
    this.index(binding);
  }

  /** Drops a binding removed elsewhere: no event, nothing persisted. Returns what was held. */
  forget(aor: string, key: string): Binding | undefined {
    const existing = this.byAor.get(aor)?.get(key);
    if (existing) this.unindex(existing);
    return existing;
  }

  /** Every binding held, expired ones not yet swept included. Do not modify. */
  *all(): IterableIterator<Binding> {
    for (const map of this.byAor.values()) yield* map.values();
  }

  /** Writes queued changes; concurrent calls are serialized. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  /** Stops timers and writes what is queued, deferred refreshes included; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.flushTimer);
    for (const [k, binding] of this.deferred) this.queue(k, { op: 'upsert', binding });
    this.deferred.clear();
    await this.flush();
  }

  private async writePending(): Promise<void> {
    if (!this.persistence || this.pending.size === 0) {
      this.pending.clear();
      return;
    }
    const changes = [...this.pending];
    this.writing = new Map(changes);
    this.pending.clear();
    const upserts: Binding[] = [];
    const removals: Array<{ aor: string; key: string }> = [];
    for (const [, c] of changes) {
      if (c.op === 'upsert') upserts.push(c.binding);
      else removals.push({ aor: c.aor, key: c.key });
    }
    try {
      if (removals.length > 0) await this.persistence.removeMany(removals);
      if (upserts.length > 0) await this.persistence.upsertMany(upserts);
    } catch (err) {
      this.logger?.error({ err, changes: changes.length }, 'could not persist bindings; will retry');
      for (const [k, c] of changes) if (!this.pending.has(k)) this.pending.set(k, c);
      return;
    } finally {
      this.writing = undefined;
    }
    for (const [k, c] of changes) {
      if (c.op === 'upsert') this.stored.set(k, c.binding);
      else this.stored.delete(k);
    }
    this.rowsSinceMaintenance += changes.length;
    const every = Math.max(this.options.maintainEveryRows ?? 10_000, this.stored.size);
    if (this.persistence.maintain !== undefined && this.rowsSinceMaintenance >= every) {
      this.rowsSinceMaintenance = 0;
      try {
        await this.persistence.maintain();
      } catch (err) {
        this.logger?.warn({ err }, 'binding store maintenance failed');
      }
    }
  }

  /**
   * True when `next` (store key `k`) only refreshes the binding the store holds (`stored`): same contact, path,
   * flow, source, instance, q and User-Agent, an expiry not earlier than the stored one and at
   * most maxLagMs (or a tenth of the interval) later. Call-ID and CSeq may differ.
   */
  private isDeferrable(k: string, stored: Binding | undefined, next: Binding): boolean {
    if (stored === undefined || this.maxLagMs <= 0) return false;
    if (this.writing?.has(k) === true) return false;
    const lag = next.expiresAt - stored.expiresAt;
    if (lag < 0 || lag > Math.min(this.maxLagMs, (next.expiresAt - next.receivedAt) / 10)) return false;
    return (
      stored.contactUri === next.contactUri &&
      stored.domain === next.domain &&
      stored.flowId === next.flowId &&
      stored.transport === next.transport &&
      stored.sourceAddress === next.sourceAddress &&
      stored.sourcePort === next.sourcePort &&
      stored.instanceId === next.instanceId &&
      stored.regId === next.regId &&
      stored.q === next.q &&
      stored.userAgent === next.userAgent &&
      sameList(stored.path, next.path)
    );
  }

  private queue(k: string, change: PendingChange): void {
    this.pending.delete(k); // keep the newest change last
    this.pending.set(k, change);
  }

  private index(b: Binding): void {
    let map = this.byAor.get(b.aor);
    if (!map) this.byAor.set(b.aor, (map = new Map<string, Binding>()));
    map.set(b.key, b);
    if (b.flowId !== undefined && b.flowId !== null && (b.run === undefined || b.run === this.options.run)) {
      let set = this.byFlow.get(b.flowId);
      if (!set) this.byFlow.set(b.flowId, (set = new Set()));
      set.add(b);
    }
  }

  private unindex(b: Binding): void {
    const map = this.byAor.get(b.aor);
    map?.delete(b.key);
    if (map?.size === 0) this.byAor.delete(b.aor);
    if (b.flowId !== undefined && b.flowId !== null) {
      const set = this.byFlow.get(b.flowId);
      set?.delete(b);
      if (set?.size === 0) this.byFlow.delete(b.flowId);
    }
  }
}

/** The key of a binding in the pending/stored/deferred maps. */
function storeKey(aor: string, key: string): string {
  return `${aor}\n${key}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
