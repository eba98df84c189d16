import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Name of the run file inside the data directory. */
export const RUN_FILE = 'handset.run.json';

/** What a running server tells the CLI: where to reach it and the token to present. */
export interface RunInfo {
  pid: number;
  httpPort: number;
  adminToken: string;
}

const runInfoSchema = z.object({
  pid: z.number().int().positive(),
  httpPort: z.number().int().min(1).max(65535),
  adminToken: z.string().min(16),
});

/** Writes `<dataDir>/handset.run.json` (mode 0600, replaced atomically). */
export async function writeRunFile(dataDir: string, info: RunInfo): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, RUN_FILE);
  const tmp = `${path}.${info.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** The run file's contents, or undefined if it is missing or unreadable. */
export async function readRunFile(dataDir: string): Promise<RunInfo | undefined> {
  try {
    const parsed = runInfoSchema.safeParse(JSON.parse(await readFile(join(dataDir, RUN_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the run file if it still names `pid` (default: this process), so a newer server's file survives. */
export async function removeRunFile(dataDir: string, pid = process.pid): Promise<void> {
  const info = await readRunFile(dataDir);
  if (info && info.pid !== pid) return;
  await unlink(join(dataDir, RUN_FILE)).catch(() => undefined);
}
