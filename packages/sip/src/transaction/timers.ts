/** The clock transactions run on: injectable so tests can drive a fake one. */
export interface Timers {
  /** Schedules `callback` after `ms` milliseconds; returns a handle for clearTimeout. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a scheduled callback; a handle already fired or cleared is ignored. */
  clearTimeout(handle: unknown): void;
  /** Milliseconds on the same clock (default Date.now). */
  now?(): number;
}

/**
 * Node's timers, looked up at call time (so vitest fake timers apply) and unref'd:
 * a pending retransmission never keeps a process alive on its own.
 */
export const SYSTEM_TIMERS: Timers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms) as { unref?: () => void };
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};
