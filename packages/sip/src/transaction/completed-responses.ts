/**
 * The Completed state of non-INVITE server transactions over unreliable transports
 * (RFC 3261 §17.2.2), held compactly.
 *
 * For the 64*T1 of Timer J such a transaction does one thing: answer a retransmitted request
 * with the final response it sent. A registrar answering thousands of REGISTERs a second keeps
 * hundreds of thousands of them in that state; as full objects (request, response, state machine,
 * a timer each) they cost kilobytes apiece and every garbage collection moves them. Here each is
 * an entry holding the response's bytes and where they went, in one FIFO: Timer J is the same for every
 * entry, so entries expire in the order they were added and one timer serves them all.
 *
 * The bytes are copied into shared chunks outside the JavaScript heap (nothing for the collector to
 * trace or move), one after another: entries die in the order they were added, so a chunk is let go
 * as a whole once its last entry has expired, and no entry pays for a buffer object of its own.
 *
 * The transaction object is let go: a TU that still holds one sees it Completed until Timer J and
 * Terminated after (the object reads its deadline). Only when the TU asked to be told about the
 * end (a delegate with onTerminated or onTransportError) does the entry keep the object, to call
 * it. (A WeakRef per entry would keep the object reachable for free, but costs about 20 us of
 * CPU per transaction in V8: more than the rest of the request's processing.)
 */
import type { SendTarget } from '../transport.js';
import type { Timers } from './timers.js';

/** What an entry does with its transaction when it ends (implemented by ServerNonInviteTransaction). */
export interface RetiredTransaction {
  /** Timer J fired. */
  retiredTimerJ(): void;
  /** Resending the final response failed. */
  retiredTransportError(error: Error): void;
  /** Ends without callbacks (the layer is closing). */
  dispose(): void;
}

/** Bytes per shared chunk of response bytes; a response larger than a quarter of it gets a copy of its own. */
const CHUNK_SIZE = 64 * 1024;

interface Entry {
  readonly key: string;
  /** The response's bytes: `length` bytes at `offset` of `chunk`. */
  readonly chunk: Buffer;
  readonly offset: number;
  readonly length: number;
  readonly target: SendTarget;
  readonly deadline: number;
  readonly transaction: RetiredTransaction | undefined;
  done: boolean;
}

/** Completed non-INVITE server transactions by key, expiring on one shared Timer J. */
export class CompletedResponses {
  private readonly byKey = new Map<string, Entry>();
  // FIFO of entries in deadline order; `head` is the first live index (compacted as it grows).
  private queue: Entry[] = [];
  private head = 0;
  private timer: unknown = undefined;
  private chunk: Buffer = Buffer.alloc(0);
  private chunkUsed = 0;

  constructor(
    private readonly timers: Timers,
    private readonly timerJ: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Files a transaction that has just sent its final response; Timer J starts now. `notify`:
   * the transaction is kept and told when it ends. Returns the time Timer J fires.
   */
  add(key: string, wire: Buffer, target: SendTarget, transaction: RetiredTransaction, notify: boolean): number {
    const { chunk, offset } = this.store(wire);
    const entry: Entry = {
      key,
      chunk,
      offset,
      length: wire.length,
      target,
      deadline: this.now() + this.timerJ,
      transaction: notify ? transaction : undefined,
      done: false,
    };
    // A key is retired once (the layer files it under one live transaction); a second add replaces the first.
    const previous = this.byKey.get(key);
    if (previous !== undefined) previous.done = true;
    this.byKey.set(key, entry);
    this.queue.push(entry);
    if (this.timer === undefined) this.arm();
    return entry.deadline;
  }

  /** The response's bytes and target for a retransmission of the request filed under `key`. */
  get(key: string): { readonly wire: Buffer; readonly target: SendTarget } | undefined {
    const entry = this.byKey.get(key);
    if (entry === undefined) return undefined;
    return { wire: entry.chunk.subarray(entry.offset, entry.offset + entry.length), target: entry.target };
  }

  /** A resend for `key` failed (RFC 3261 §17.2.4): the transaction terminates and its TU hears why. */
  failed(key: string, error: Error): void {
    const entry = this.byKey.get(key);
    if (entry === undefined) return;
    this.end(entry);
    entry.transaction?.retiredTransportError(error);
  }

  /** The transaction ended by itself (a failed send of its final response): forget its entry. */
  remove(key: string, transaction: RetiredTransaction): void {
    const entry = this.byKey.get(key);
    if (entry !== undefined && entry.transaction === transaction) this.end(entry);
  }

  /** Ends everything without callbacks (the layer is closing). */
  clear(): void {
    for (const entry of this.byKey.values()) entry.transaction?.dispose();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.byKey.clear();
    this.queue = [];
    this.head = 0;
    this.chunk = Buffer.alloc(0);
    this.chunkUsed = 0;
  }

  /** Copies `wire` into the current chunk (a new one when it is full). */
  private store(wire: Buffer): { chunk: Buffer; offset: number } {
    if (wire.length > CHUNK_SIZE / 4) return { chunk: Buffer.from(wire), offset: 0 };
    if (this.chunkUsed + wire.length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_SIZE);
      this.chunkUsed = 0;
    }
    const offset = this.chunkUsed;
    wire.copy(this.chunk, offset);
    this.chunkUsed += wire.length;
    return { chunk: this.chunk, offset };
  }

  private end(entry: Entry): void {
    entry.done = true;
    if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
  }

  private arm(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.done) this.head++;
    this.compact();
    const first = this.queue[this.head];
    if (first === undefined) return;
    this.timer = this.timers.setTimeout(this.expire, Math.max(0, first.deadline - this.now()));
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.now();
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      if (!entry.done && entry.deadline > now) break;
      this.head++;
      if (entry.done) continue;
      this.end(entry);
      entry.transaction?.retiredTimerJ();
    }
    this.arm();
  };

  // Drop the consumed prefix once it is most of the array (amortised O(1) per entry).
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
