import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PgliteReply, PgliteRequest, WireError, WireQueryOptions } from './pglite-protocol.js';

/** What a query answers (the subset of PGlite's Results that drizzle reads). */
export interface WorkerResults {
  rows: unknown[];
  fields: Array<{ name: string; dataTypeID: number }>;
  affectedRows?: number;
}

/** Query options as drizzle's PGlite driver passes them. */
interface QueryOptions {
  rowMode?: 'array' | 'object';
  parsers?: Record<number, unknown>;
}

/** The part of a PGlite connection that drizzle's `drizzle-orm/pglite` driver uses. */
export interface PgliteLike {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<WorkerResults>;
  exec(sql: string): Promise<WorkerResults[]>;
  transaction<T>(fn: (tx: PgliteLike) => Promise<T>): Promise<T>;
}

/** A database error from the worker, with PostgreSQL's fields (`code`, `constraint`, ...) on it. */
class WorkerDatabaseError extends Error {
  constructor(wire: WireError) {
    super(wire.message);
    Object.assign(this, wire.fields);
    this.name = wire.name;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type Outgoing = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Embedded PGlite in a worker thread, behind the connection interface drizzle's PGlite driver
 * uses. PGlite runs each statement synchronously; on the main thread a binding flush or a CDR
 * search would hold up every SIP message meanwhile, and here it runs on the other core.
 */
export class PgliteWorkerClient implements PgliteLike {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: PgliteReply) => this.#onReply(m));
    worker.on('error', (err) => this.#fail(new Error(`embedded database thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#fail(new Error(`embedded database thread exited (code ${code})`)));
  }

  /** Starts the thread and opens the database at `dataDir` (memory when undefined). */
  static async open(dataDir: string | undefined): Promise<PgliteWorkerClient> {
    // A new data directory is created by PGlite's initdb, a second WebAssembly instance whose memory
    // (~500 MB) stays with the thread: create it in a thread of its own that then ends, so a first
    // start costs no more memory than every later one.
    if (dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))) {
      const init = new PgliteWorkerClient(startWorker());
      try {
        await init.#call({ kind: 'open', dataDir });
      } finally {
        await init.close();
      }
    }
    const client = new PgliteWorkerClient(startWorker());
    try {
      await client.#call({ kind: 'open', dataDir });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    return client;
  }

  query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<WorkerResults> {
    return this.#query(sql, params, options, undefined);
  }

  exec(sql: string): Promise<WorkerResults[]> {
    return this.#call({ kind: 'exec', sql }) as Promise<WorkerResults[]>;
  }

  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  async transaction<T>(fn: (tx: PgliteLike) => Promise<T>): Promise<T> {
    const txId = (await this.#call({ kind: 'begin' })) as number;
    const tx: PgliteLike = {
      query: (sql, params = [], options = {}) => this.#query(sql, params, options, txId),
      exec: (sql) => this.#call({ kind: 'exec', sql, txId }) as Promise<WorkerResults[]>,
      transaction: () => Promise.reject(new Error('nested transactions go through savepoints')),
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      await this.#call({ kind: 'end', txId, commit: false }).catch(() => undefined);
      throw err;
    }
    await this.#call({ kind: 'end', txId, commit: true });
    return result;
  }

  /** Closes the database and ends the thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#failure === undefined) await this.#call({ kind: 'close' }).catch(() => undefined);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #query(sql: string, params: unknown[], options: QueryOptions, txId: number | undefined): Promise<WorkerResults> {
    const wire: WireQueryOptions = {
      rowMode: options.rowMode,
      // drizzle's parsers keep these types as text; functions cannot cross threads, their OIDs can.
      rawTypes: options.parsers ? Object.keys(options.parsers).map(Number) : undefined,
    };
    return this.#call({ kind: 'query', sql, params, options: wire, txId }) as Promise<WorkerResults>;
  }

  #call(request: Outgoing): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  #onReply(m: PgliteReply): void {
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new WorkerDatabaseError(m.error));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

/** The worker script: plain JavaScript beside this file, in the sources as in dist. */
function startWorker(): Worker {
  return new Worker(new URL('./pglite-worker.js', import.meta.url));
}
