import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ScriptFailureKind, ScriptJob, ScriptOutcome } from './script-protocol.js';

/** Limits of one script run. */
export interface ScriptLimits {
  /** Wall time inside the engine (default 1000 ms). */
  timeoutMs: number;
  /** Heap of the script's runtime (default 32 MiB). */
  memoryBytes: number;
  /** Longest JSON answer (default 256 KiB). */
  maxOutput: number;
  /** Runs waiting for the engine before new ones are refused as busy (default 64). */
  maxQueue: number;
}

/** What a run gives back. */
export type ScriptRun =
  | { ok: true; value: unknown; logs: string[]; durationMs: number }
  | { ok: false; kind: ScriptFailureKind; message: string; logs: string[]; durationMs: number };

/** Defaults of {@link ScriptLimits}. */
export const DEFAULT_SCRIPT_LIMITS: ScriptLimits = {
  timeoutMs: 1000,
  memoryBytes: 32 << 20,
  maxOutput: 256 << 10,
  maxQueue: 64,
};

/** Extra time the host gives the worker past a run's limit before it ends the thread. */
const WATCHDOG_GRACE_MS = 1000;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/**
 * Runs agent scripts in a worker thread holding QuickJS (WebAssembly): a script cannot reach
 * Node (no require, process, timers, network or files), is stopped at its time limit by the
 * engine's interrupt handler and by its memory limit, and runs off the main thread so a slow
 * script never holds up SIP or HTTP. Should the engine fail to stop (it should not), a watchdog
 * ends the thread and a new one serves the next run. Runs are served one at a time, in order.
 */
export class ScriptSandbox {
  readonly limits: ScriptLimits;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { resolve: (o: ScriptOutcome) => void; timer: NodeJS.Timeout | undefined; started: number; budgetMs: number }
  >();
  #closed = false;

  constructor(private readonly o: { limits?: Partial<ScriptLimits>; logger?: Logger } = {}) {
    this.limits = { ...DEFAULT_SCRIPT_LIMITS, ...o.limits };
  }

  /** Runs `fn(input)` of `source` (fn default `main`); never throws for anything the script does. */
  async run(source: string, input: unknown, fn = 'main', limits: Partial<ScriptLimits> = {}): Promise<ScriptRun> {
    const l = { ...this.limits, ...limits };
    if (this.#closed) return failure('crashed', 'the script sandbox is closed');
    if (!IDENT.test(fn)) return failure('exception', `"${fn.slice(0, 64)}" is not a function name`);
    if (this.#pending.size >= l.maxQueue) return failure('busy', 'too many scripts are running; try again shortly');
    const inputJson = JSON.stringify(input ?? null);
    const job: ScriptJob = {
      id: this.#nextId++,
      source,
      fn,
      inputJson,
      timeoutMs: l.timeoutMs,
      memoryBytes: l.memoryBytes,
      maxOutput: l.maxOutput,
    };
    const outcome = await new Promise<ScriptOutcome>((resolve) => {
      const worker = this.#ensureWorker();
      const entry = { resolve, timer: undefined, started: Date.now(), budgetMs: l.timeoutMs + WATCHDOG_GRACE_MS };
      this.#pending.set(job.id, entry);
      worker.postMessage(job);
    });
    if (!outcome.ok) return outcome;
    try {
      return {
        ok: true,
        value: JSON.parse(outcome.json) as unknown,
        logs: outcome.logs,
        durationMs: outcome.durationMs,
      };
    } catch {
      return failure('garbage', 'the answer is not JSON');
    }
  }

  /** Ends the worker; later runs fail. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = undefined;
    this.#failAll('crashed', 'the script sandbox closed');
    await w?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL('./script-worker.js', import.meta.url), {
      // A script's heap lives in the WebAssembly memory; this bounds the thread's own JS heap.
      resourceLimits: { maxOldGenerationSizeMb: 64 + (this.limits.memoryBytes >> 20) * 2 },
    });
    w.unref();
    w.on('message', (m: ScriptOutcome | { started: number }) => {
      if ('started' in m) {
        if (this.#worker === w) this.#arm(m.started);
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.#pending.delete(m.id);
      p.resolve(m);
    });
    // A thread the watchdog ended is no longer #worker: its exit concerns none of the runs now pending.
    w.on('error', (err) => {
      this.o.logger?.error({ err }, 'script sandbox worker failed');
      if (this.#worker !== w) return;
      this.#worker = undefined;
      this.#failAll('crashed', 'the script engine failed while running this script');
    });
    w.on('exit', () => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      this.#failAll('crashed', 'the script engine stopped');
    });
    this.#worker = w;
    return w;
  }

  /** Starts the watchdog of a run the worker has begun: its limit and a grace period. */
  #arm(id: number): void {
    const p = this.#pending.get(id);
    if (p && !p.timer) p.timer = setTimeout(() => this.#kill(id), p.budgetMs);
  }

  /** The watchdog: the engine missed run `id`'s deadline; end the thread and fail what it held. */
  #kill(id: number): void {
    const w = this.#worker;
    this.#worker = undefined;
    this.o.logger?.warn('a script overran its limit and the engine did not stop it: restarting the sandbox');
    const overran = this.#pending.get(id);
    if (overran) {
      this.#pending.delete(id);
      overran.resolve({
        id,
        ok: false,
        kind: 'timeout',
        message: `the script ran longer than its limit of ${overran.budgetMs - WATCHDOG_GRACE_MS} ms and was stopped`,
        logs: [],
        durationMs: Date.now() - overran.started,
      });
    }
    this.#failAll('crashed', 'the script engine was restarted while this script waited; run it again');
    void w?.terminate();
  }

  #failAll(kind: ScriptFailureKind, message: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.resolve({ id, ok: false, kind, message, logs: [], durationMs: Date.now() - p.started });
    }
    this.#pending.clear();
  }
}

function failure(kind: ScriptFailureKind, message: string): ScriptRun {
  return { ok: false, kind, message, logs: [], durationMs: 0 };
}
