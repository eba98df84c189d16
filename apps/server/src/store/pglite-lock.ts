import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from './store-error.js';

/** A held lock file; `release()` is idempotent. */
export interface PgliteLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Who holds a lock: a pid alone is not enough, since a restarted container recycles pids. */
interface LockOwner {
  pid: number;
  /** `performance.timeOrigin` of the owning process. */
  started: number;
}

/**
 * Takes `<dir>.lock` for an embedded PGlite directory. PGlite itself does not stop a second
 * opener of the same files (which would corrupt them), so this does: the file names the owner
 * (pid and process start time), and a lock whose owner is gone is taken over. Holding it in
 * this very process counts as held.
 */
export async function acquirePgliteLock(dir: string): Promise<PgliteLock> {
  const path = `${dir}.lock`;
  const me: LockOwner = { pid: process.pid, started: performance.timeOrigin };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(me) + '\n', { flag: 'wx', mode: 0o600 });
      return lockHandle(path, me);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError('LOCKED', `cannot create lock file ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    const owner = await readOwner(path);
    const held = owner !== undefined && (owner.pid === me.pid ? owner.started === me.started : isAlive(owner.pid));
    if (held) {
      throw new StoreError('LOCKED', `the database ${dir} is in use by process ${owner.pid}`);
    }
    // Stale (dead owner, or unreadable half-written file): remove and retry.
    await unlink(path).catch(() => undefined);
  }
  throw new StoreError('LOCKED', `could not take the lock file ${path}`);
}

function lockHandle(path: string, me: LockOwner): PgliteLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours.
      const owner = await readOwner(path);
      if (owner?.pid === me.pid && owner.started === me.started) await unlink(path).catch(() => undefined);
    },
  };
}

/** The lock's owner; a bare pid (older or hand-written file) counts as started at 0. */
async function readOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o === 'number') return Number.isSafeInteger(o) && o > 0 ? { pid: o, started: 0 } : undefined;
    return typeof o.pid === 'number' && typeof o.started === 'number' ? { pid: o.pid, started: o.started } : undefined;
  } catch {
    return undefined;
  }
}

/** True when a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
