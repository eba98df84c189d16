/**
 * The location service shared by the nodes of a cluster (RFC 3261 §10.3 over Redis). Every binding
 * lives in Redis, one hash per AOR (`<prefix>aor:<aor>`, field = binding key), written by Lua
 * scripts that apply the registrar's ordering rule atomically, so the shared record is the only
 * truth: an older REGISTER never replaces a newer one, whichever node each went through, and a
 * binding is expired only when the shared record says so, never from a node's copy.
 *
 * Each node keeps a full copy (the in-memory LocationService, so lookups stay a Map read) fed by
 * the scripts' change messages on `<prefix>location`, ordered by a cluster-wide revision, and
 * read again whole when the subscription (re)starts. Events (`registered`, `expired`, ...) are
 * emitted by the one node whose write changed the record, so the cluster emits each once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Binding } from '../registrar/binding.js';
import type { LocationService } from '../registrar/location-service.js';
import type { RemovalCheck, SharedBindingWriter } from '../registrar/shared-binding-writer.js';
import type { NodeIdentity } from './node-identity.js';

/**
 * §10.3 step 7: a binding with the same Call-ID and a CSeq not below the request's is newer: the
 * write is refused (an expired record does not count). Returns {1, rev} or {0, stored record}.
 */
const SAVE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local c = cjson.decode(cur)
  if c.callId == ARGV[2] and tonumber(c.cseq) >= tonumber(ARGV[3]) and tonumber(c.expiresAt) > tonumber(ARGV[4]) then
    return {0, cur}
  end
end
local rev = redis.call('INCR', KEYS[2])
local rec = string.sub(ARGV[6], 1, -2) .. ',"rev":' .. rev .. '}'
redis.call('HSET', KEYS[1], ARGV[1], rec)
local ttl = tonumber(ARGV[5]) - tonumber(ARGV[4]) + 60000
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', KEYS[3], '{"op":"s","from":"' .. ARGV[7] .. '","b":' .. rec .. '}')
return {1, rev}`;

/**
 * Removes a binding when the shared record allows it. Modes: `request` (a REGISTER with Call-ID
 * ARGV[3] and CSeq ARGV[4] unbinds: refused when the record has that Call-ID and a CSeq not below),
 * `exact` (only the version this node held: Call-ID and CSeq equal), `expire` (only when the record
 * itself has expired at ARGV[5]). Returns {1, record} when removed, {0, record} when kept, {0} when absent.
 */
const REMOVE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {0} end
local c = cjson.decode(cur)
local mode = ARGV[2]
local keep
if mode == 'request' then keep = c.callId == ARGV[3] and tonumber(c.cseq) >= tonumber(ARGV[4])
elseif mode == 'exact' then keep = not (c.callId == ARGV[3] and tonumber(c.cseq) == tonumber(ARGV[4]))
else keep = tonumber(c.expiresAt) > tonumber(ARGV[5]) end
if keep then return {0, cur} end
redis.call('HDEL', KEYS[1], ARGV[1])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], cjson.encode({op = 'd', from = ARGV[6], aor = c.aor, key = ARGV[1], rev = rev}))
return {1, cur}`;

/** Options of {@link SharedLocation}. */
export interface SharedLocationOptions {
  redis: Redis;
  prefix: string;
  node: NodeIdentity;
  /** This node's copy of every binding (a LocationService without persistence); emits the events. */
  replica: LocationService;
  clock?: () => number;
  logger?: Logger | undefined;
}

/** Largest change message taken from the channel. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** How long a removal is remembered against a late copy of what it removed. */
const TOMBSTONE_MS = 30_000;

type Change = { op: 's'; from: string; b: Binding } | { op: 'd'; from: string; aor: string; key: string; rev: number };

/** The shared location; see the file comment. */
export class SharedLocation implements SharedBindingWriter {
  /** Removals seen, by `aor\nkey`: a copy with a revision not above is stale. */
  private readonly gone = new Map<string, { rev: number; at: number }>();
  /** Bindings whose expiry is being decided in Redis (the sweep runs every second). */
  private readonly expiring = new Set<Binding>();
  private readonly clock: () => number;
  private readonly replica: LocationService;
  /** The Path entry (RFC 3327) naming this node and a binding's flow; set once the listeners are known. */
  pathFor: ((binding: Binding) => string | undefined) | undefined;

  constructor(private readonly o: SharedLocationOptions) {
    this.clock = o.clock ?? Date.now;
    this.replica = o.replica;
  }

  /** The pub/sub channel the change messages travel on. */
  get channel(): string {
    return `${this.o.prefix}location`;
  }

  /** Writes a binding through the shared record (§10.3 step 7 checked there). */
  async save(binding: Binding): Promise<boolean> {
    const path = binding.flowId === undefined ? undefined : this.pathFor?.(binding);
    const rec: Binding = {
      ...binding,
      path: path === undefined ? binding.path : [path, ...binding.path],
      node: this.o.node.id,
      run: this.o.node.run,
      rev: undefined,
    };
    const now = this.clock();
    const reply = (await this.o.redis.eval(
      SAVE,
      3,
      this.aorKey(rec.aor),
      this.seqKey(),
      this.channel,
      rec.key,
      rec.callId,
      String(rec.cseq),
      String(now),
      String(rec.expiresAt),
      JSON.stringify(rec),
      this.o.node.run,
    )) as [number, number | string];
    if (reply[0] !== 1) {
      const stored = parseBinding(String(reply[1]));
      if (stored !== undefined) this.applySet(stored);
      return false;
    }
    rec.rev = Number(reply[1]);
    const k = keyOf(rec.aor, rec.key);
    const held = this.replica.bindingsByKey(rec.aor)?.get(rec.key);
    if ((held?.rev ?? 0) > rec.rev || (this.gone.get(k)?.rev ?? 0) > rec.rev) {
      // A later change (from another node) arrived first: keep it, but this write still happened.
      this.replica.emit(held === undefined ? 'registered' : 'refreshed', rec);
    } else {
      this.replica.save(rec);
    }
    return true;
  }

  /** Removes a binding if the shared record allows it; emits `reason` here when removed. */
  async remove(
    binding: Binding,
    check: RemovalCheck,
    reason: 'unregistered' | 'expired' = 'unregistered',
  ): Promise<boolean> {
    const reply = (await this.o.redis.eval(
      REMOVE,
      3,
      this.aorKey(binding.aor),
      this.seqKey(),
      this.channel,
      binding.key,
      check.mode,
      check.mode === 'request' ? check.callId : binding.callId,
      String(check.mode === 'request' ? check.cseq : binding.cseq),
      String(this.clock()),
      this.o.node.run,
    )) as [number, string?];
    const stored = reply[1] === undefined ? undefined : parseBinding(reply[1]);
    if (reply[0] === 1) {
      const held = this.replica.bindingsByKey(binding.aor)?.get(binding.key);
      if (held !== undefined) this.replica.remove(held, reason);
      else if (stored !== undefined) this.replica.emit(reason, stored);
      return true;
    }
    if (stored !== undefined) this.applySet(stored);
    else this.replica.forget(binding.aor, binding.key);
    return false;
  }

  /**
   * The replica's sweep found `binding` expired by its clock: the shared record decides (it may
   * have been refreshed through another node, with the message not here yet).
   */
  expire(binding: Binding): void {
    if (this.expiring.has(binding)) return;
    this.expiring.add(binding);
    this.remove(binding, { mode: 'expire' }, 'expired')
      .catch((err: unknown) => this.o.logger?.warn({ err, aor: binding.aor }, 'could not expire a shared binding'))
      .finally(() => this.expiring.delete(binding));
  }

  /** A change message from the channel (any content: malformed ones are dropped). */
  handleMessage(message: string): void {
    if (message.length > MAX_MESSAGE_BYTES) return;
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    if (typeof change !== 'object' || change === null) return;
    if (change.op === 's') {
      const b = validBinding(change.b);
      if (b !== undefined) this.applySet(b);
    } else if (change.op === 'd') {
      if (typeof change.aor !== 'string' || typeof change.key !== 'string' || typeof change.rev !== 'number') return;
      this.applyDelete(change.aor, change.key, change.rev);
    }
  }

  /**
   * Reads every binding from Redis into the replica (at start, and after the subscription was
   * lost, when messages may have been missed). Copies Redis no longer has are dropped.
   */
  async resync(): Promise<number> {
    const before = Number((await this.o.redis.get(this.seqKey())) ?? 0);
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.o.redis.scan(cursor, 'MATCH', `${this.o.prefix}aor:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipe = this.o.redis.pipeline();
      for (const k of keys) pipe.hgetall(k);
      const results = (await pipe.exec()) ?? [];
      for (const [err, fields] of results) {
        if (err !== null || typeof fields !== 'object' || fields === null) continue;
        for (const raw of Object.values(fields as Record<string, string>)) {
          const b = parseBinding(raw);
          if (b === undefined) continue;
          seen.add(keyOf(b.aor, b.key));
          this.applySet(b);
        }
      }
    } while (cursor !== '0');
    for (const b of [...this.replica.all()])
      if (!seen.has(keyOf(b.aor, b.key)) && (b.rev ?? 0) <= before) this.replica.forget(b.aor, b.key);
    // The flows a previous run of this node held are gone with it.
    const orphans = [...this.replica.all()].filter(
      (b) => b.node === this.o.node.id && b.run !== this.o.node.run && b.flowId !== undefined,
    );
    for (const b of orphans) await this.remove(b, { mode: 'exact' });
    return seen.size;
  }

  /**
   * A node (run) died: its stream flows died with it, so the bindings that can only be reached over
   * them are removed (as one node removes them when such a flow closes). Done by one node.
   */
  async dropFlowsOf(node: string, run: string): Promise<number> {
    const orphans = [...this.replica.all()].filter((b) => b.node === node && b.run === run && b.flowId !== undefined);
    let n = 0;
    for (const b of orphans) if (await this.remove(b, { mode: 'exact' })) n++;
    if (n > 0) this.o.logger?.info({ node, run, bindings: n }, 'removed the bindings of a dead node');
    return n;
  }

  private applySet(b: Binding): void {
    const k = keyOf(b.aor, b.key);
    const rev = b.rev ?? 0;
    if ((this.gone.get(k)?.rev ?? 0) >= rev) return;
    const held = this.replica.bindingsByKey(b.aor)?.get(b.key);
    if (held !== undefined && (held.rev ?? 0) >= rev) return;
    this.replica.replicate(b);
  }

  private applyDelete(aor: string, key: string, rev: number): void {
    const k = keyOf(aor, key);
    const held = this.replica.bindingsByKey(aor)?.get(key);
    if (held !== undefined && (held.rev ?? 0) <= rev) this.replica.forget(aor, key);
    const now = this.clock();
    this.gone.set(k, { rev, at: now });
    if (this.gone.size > 1024) for (const [g, t] of this.gone) if (now - t.at > TOMBSTONE_MS) this.gone.delete(g);
  }

  private aorKey(aor: string): string {
    return `${this.o.prefix}aor:${aor}`;
  }

  private seqKey(): string {
    return `${this.o.prefix}seq:location`;
  }
}

function keyOf(aor: string, key: string): string {
  return `${aor}\n${key}`;
}

function parseBinding(raw: string): Binding | undefined {
  if (raw.length > MAX_MESSAGE_BYTES) return undefined;
  try {
    return validBinding(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

/** A binding from Redis or the channel, checked field by field (anything else there is ignored). */
function validBinding(v: unknown): Binding | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const b = v as Partial<Binding>;
  if (typeof b.aor !== 'string' || typeof b.key !== 'string' || typeof b.domain !== 'string') return undefined;
  if (typeof b.contactUri !== 'string' || typeof b.callId !== 'string' || typeof b.cseq !== 'number') return undefined;
  if (typeof b.expiresAt !== 'number' || typeof b.receivedAt !== 'number' || typeof b.rev !== 'number')
    return undefined;
  if (typeof b.sourceAddress !== 'string' || typeof b.sourcePort !== 'number' || typeof b.transport !== 'string')
    return undefined;
  if (!Array.isArray(b.path) || !b.path.every((p) => typeof p === 'string')) return undefined;
  return b as Binding;
}
