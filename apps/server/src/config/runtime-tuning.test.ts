import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { applyRuntimeTuning, parallelScavengeWanted, udpIoNativeWanted, udpIoThreadWanted } from './runtime-tuning.js';

const run = promisify(execFile);
const workload = fileURLToPath(new URL('./testing/scavenge-workload.ts', import.meta.url));

/**
 * Runs the workload under --trace-gc-nvp: how many scavenges its isolate ran after the setting
 * applied, and the CPU V8's helper threads spent on them. (The tsx loader has an isolate of its own,
 * on its own thread: the workload's is the one that collects most.)
 */
async function scavenges(setting: string, cores: number): Promise<{ count: number; helperMs: number }> {
  const { stdout } = await run(
    process.execPath,
    ['--trace-gc-nvp', '--import', 'tsx', workload, setting, String(cores)],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const lines = stdout.split('\n');
  // V8 prints its trace through C stdio, which flushes a pipe in blocks that can end mid-line; the
  // workload's marker, written by Node, can then land inside a trace line (seen once in CI).
  const tuned = lines.findIndex((l) => l.includes('tuned'));
  expect(tuned).toBeGreaterThanOrEqual(0);
  expect(stdout).toContain('kept ');
  const byIsolate = new Map<string, { count: number; helperMs: number }>();
  for (const line of lines.slice(tuned + 1)) {
    if (!line.includes(' gc=s ')) continue;
    const isolate = line.slice(0, line.indexOf(']') + 1);
    const entry = byIsolate.get(isolate) ?? { count: 0, helperMs: 0 };
    entry.count++;
    entry.helperMs += Number(/ background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1] ?? 0);
    byIsolate.set(isolate, entry);
  }
  return [...byIsolate.values()].sort((a, b) => b.count - a.count)[0] ?? { count: 0, helperMs: 0 };
}

describe('parallel scavenging (HANDSET_PARALLEL_SCAVENGE)', () => {
  it('is off under auto on hosts of one or two cores, on above, and as told otherwise', () => {
    expect(parallelScavengeWanted('auto', 1)).toBe(false);
    expect(parallelScavengeWanted('auto', 2)).toBe(false);
    expect(parallelScavengeWanted('auto', 3)).toBe(true);
    expect(parallelScavengeWanted('auto', 64)).toBe(true);
    expect(parallelScavengeWanted('on', 1)).toBe(true);
    expect(parallelScavengeWanted('off', 64)).toBe(false);
  });

  it("sets V8's flag only when the choice is not V8's default", () => {
    const calls: string[] = [];
    const setFlags = (f: string) => calls.push(f);
    expect(applyRuntimeTuning('auto', { cores: 2, setFlags })).toEqual({
      parallelScavenge: false,
      cores: 2,
      v8Flag: '--no-parallel-scavenge',
    });
    expect(applyRuntimeTuning('auto', { cores: 8, setFlags }).v8Flag).toBeUndefined();
    expect(applyRuntimeTuning('on', { cores: 1, setFlags }).v8Flag).toBe('--parallel-scavenge');
    expect(calls).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
  });

  it('keeps the young-generation work on the main thread when off, once the process is running', async () => {
    const off = await scavenges('auto', 2);
    expect(off.count).toBeGreaterThan(5);
    expect(off.helperMs).toBe(0);
  });

  it.skipIf(availableParallelism() < 2)(
    'leaves it to the helper threads when on (so the check above can fail)',
    async () => {
      const on = await scavenges('on', 2);
      expect(on.count).toBeGreaterThan(5);
      expect(on.helperMs).toBeGreaterThan(0);
    },
  );
});

describe('the UDP I/O thread (HANDSET_UDP_IO_THREAD)', () => {
  it('is on under auto when the host has a second core, and as told otherwise', () => {
    expect(udpIoThreadWanted('auto', 1)).toBe(false);
    expect(udpIoThreadWanted('auto', 2)).toBe(true);
    expect(udpIoThreadWanted('auto', 16)).toBe(true);
    expect(udpIoThreadWanted('on', 1)).toBe(true);
    expect(udpIoThreadWanted('off', 16)).toBe(false);
    // `worker`: an I/O thread, the dgram one even where the native one is built.
    expect(udpIoThreadWanted('worker', 1)).toBe(true);
    expect(udpIoNativeWanted('worker')).toBe(false);
    expect(udpIoNativeWanted('auto')).toBe(true);
    expect(udpIoNativeWanted('on')).toBe(true);
  });
});
