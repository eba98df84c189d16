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
}

type PendingChange = { op: 'upsert'; binding: Binding } | { op: 'remove'; aor: string; key: string };

/** In-memory location service with write-behind persistence and typed change events. */
export class LocationService extends TypedEmitter<LocationEvents> {
  private readonly byAor = new Map<string, Map<string, Binding>>();
  private readonly byFlow = new Map<string, Set<Binding>>();
  private readonly pending = new Map<string, PendingChange>();
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
    this.onListenerError = (err, event) => this.logger?.error({ err, event }, 'location event listener failed');
  }

  /** Loads persisted bindings that have not expired and starts the expiry sweep. */
  async start(): Promise<void> {
    if (this.persistence) {
      for (const b of await this.persistence.loadAll(this.clock())) this.index(b);
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
    this.queue({ op: 'upsert', binding });
    this.emit(existing ? 'refreshed' : 'registered', binding);
  }

  /** Removes a binding; emits `unregistered` (or `expired`). */
  remove(binding: Binding, reason: 'unregistered' | 'expired' = 'unregistered'): void {
    const current = this.byAor.get(binding.aor)?.get(binding.key);
    if (current !== binding) return;
    this.unindex(binding);
    this.queue({ op: 'remove', aor: binding.aor, key: binding.key });
    this.emit(reason, binding);
  }

  /** Removes every binding whose expiry has passed; emits `expired` for each. */
  sweep(): void {
    const now = this.clock();
    for (const map of this.byAor.values()) {
      for (const b of map.values()) if (b.expiresAt <= now) this.remove(b, 'expired');
    }
  }

  /** Writes queued changes; concurrent calls are serialized. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.persistence || this.pending.size === 0) {
        this.pending.clear();
        return;
      }
      const changes = [...this.pending.values()];
      this.pending.clear();
      const upserts = changes.flatMap((c) => (c.op === 'upsert' ? [c.binding] : []));
      const removals = changes.flatMap((c) => (c.op === 'remove' ? [{ aor: c.aor, key: c.key }] : []));
      try {
        if (removals.length > 0) await this.persistence.removeMany(removals);
        if (upserts.length > 0) await this.persistence.upsertMany(upserts);
      } catch (err) {
        this.logger?.error({ err, changes: changes.length }, 'could not persist bindings; will retry');
        for (const c of changes) {
          const k = c.op === 'upsert' ? `${c.binding.aor}\n${c.binding.key}` : `${c.aor}\n${c.key}`;
          if (!this.pending.has(k)) this.pending.set(k, c);
        }
      }
    });
    return this.flushing;
  }

  /** Stops timers and writes what is queued; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.flushTimer);
    await this.flush();
  }

  private queue(change: PendingChange): void {
    const k = change.op === 'upsert' ? `${change.binding.aor}\n${change.binding.key}` : `${change.aor}\n${change.key}`;
    this.pending.delete(k); // keep the newest change last
    this.pending.set(k, change);
  }

  private index(b: Binding): void {
    let map = this.byAor.get(b.aor);
    if (!map) this.byAor.set(b.aor, (map = new Map<string, Binding>()));
    map.set(b.key, b);
    if (b.flowId !== undefined && b.flowId !== null) {
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
