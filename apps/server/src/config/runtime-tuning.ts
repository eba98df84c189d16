/**
 * V8 settings the server applies to its own process at start-up, before the SIP stack allocates.
 *
 * Parallel scavenging: V8 splits each young-generation collection between the main thread and
 * its platform worker threads. On a host with one or two cores those workers compete with the
 * event loop (and, under load, with the peers on the same machine) for the same cores: in
 * `npm run bench:sip` on a 2-core host the main thread's pauses were as long with the helpers
 * as without them (1261 against 1313 ms over a call run), and the helpers spent another 1682 ms
 * of CPU on top (`--trace-gc-nvp`, `background.scavenge.parallel`). So `auto` turns it off there
 * and leaves V8's default on larger hosts.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** HANDSET_PARALLEL_SCAVENGE: `auto` (off on hosts with at most this many cores), `on`, `off`. */
export type ParallelScavengeSetting = 'auto' | 'on' | 'off';

/** At most this many cores, `auto` scavenges on the main thread alone. */
export const SMALL_HOST_CORES = 2;

/** Whether young-generation collections should use V8's worker threads. */
export function parallelScavengeWanted(setting: ParallelScavengeSetting, cores = availableParallelism()): boolean {
  if (setting === 'on') return true;
  if (setting === 'off') return false;
  return cores > SMALL_HOST_CORES;
}

/** What {@link applyRuntimeTuning} decided. */
export interface RuntimeTuning {
  readonly parallelScavenge: boolean;
  readonly cores: number;
  /** The V8 flag set, or undefined when V8's default (or the node command line's) was kept. */
  readonly v8Flag: string | undefined;
}

/**
 * Applies the setting to this process. V8 reads the scavenger flag at every collection, so it takes
 * effect at once. `auto` on a larger host sets nothing, so that a `--no-parallel-scavenge` given to
 * node itself still holds. `setFlags` is V8's, replaceable only to observe the call.
 */
export function applyRuntimeTuning(
  setting: ParallelScavengeSetting,
  options: { cores?: number; setFlags?: (flags: string) => void } = {},
): RuntimeTuning {
  const cores = options.cores ?? availableParallelism();
  const parallelScavenge = parallelScavengeWanted(setting, cores);
  let v8Flag: string | undefined;
  if (!parallelScavenge) v8Flag = '--no-parallel-scavenge';
  else if (setting === 'on') v8Flag = '--parallel-scavenge';
  if (v8Flag !== undefined) (options.setFlags ?? setFlagsFromString)(v8Flag);
  return { parallelScavenge, cores, v8Flag };
}

/**
 * HANDSET_UDP_IO_THREAD: `auto` (on when the host has a second core), `on`, `worker`, `off`.
 *
 * With it the SIP UDP socket is served by a thread of its own (@handset/sip-node's UdpIoThread):
 * the send and receive system calls, the kernel's delivery path they run and dgram's per-datagram
 * work move off the event loop that parses and routes. On the 2-core bench host that was a fifth
 * of the SIP thread's REGISTER time (docs/benchmarks.md). On one core the thread could only take
 * turns with the event loop, so `auto` leaves it off there. The thread is the native one (batches
 * of datagrams per system call) where it is built, else a dgram worker; `worker` asks for the
 * worker whatever is built.
 */
export type UdpIoThreadSetting = 'auto' | 'on' | 'worker' | 'off';

/** Whether the SIP UDP socket should get an I/O thread. */
export function udpIoThreadWanted(setting: UdpIoThreadSetting, cores = availableParallelism()): boolean {
  if (setting === 'on' || setting === 'worker') return true;
  if (setting === 'off') return false;
  return cores >= 2;
}

/** Whether that I/O thread may be the native one (when it is built). */
export function udpIoNativeWanted(setting: UdpIoThreadSetting): boolean {
  return setting !== 'worker';
}

/**
 * One full, compacting garbage collection once the server is up: start-up (module loading,
 * migrations, route compilation) leaves a grown young generation and garbage in the old one that
 * V8 would keep resident until load makes it collect, so an idle server would hold it for good.
 * Measured by `npm run bench:start` (docs/benchmarks.md). A no-op where `gc` cannot be exposed.
 */
export function collectStartupGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') (gc as () => void)();
}

/**
 * For the embedded database: WebAssembly compiled by the baseline compiler (Liftoff) only, never
 * re-compiled by the optimizing one. PGlite's module is large and the optimized copies of its hot
 * functions stayed resident (about 30 MB of an idle server), while the queries of a PBX directory
 * ran no slower within the noise of an A/B run on a loaded host (docs/benchmarks.md). Set
 * before the database thread compiles the module; the flag is process-wide and only WebAssembly
 * reads it.
 */
export function applyEmbeddedDatabaseTuning(): void {
  setFlagsFromString('--liftoff-only');
}
