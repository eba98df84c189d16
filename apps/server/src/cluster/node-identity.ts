/**
 * Who this node is in a cluster: a name that stays the same across restarts of one data directory
 * (HANDSET_NODE_ID, else `<dataDir>/node-id`, made once), and a run id that changes with every
 * start, so the flows a previous run held are known to be gone.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** File, inside the data directory, that keeps a derived node id. */
export const NODE_ID_FILE = 'node-id';

/** What a node id may look like (also HANDSET_NODE_ID's rule). */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A node's identity. */
export interface NodeIdentity {
  /** Stable name (HANDSET_NODE_ID or `<dataDir>/node-id`). */
  readonly id: string;
  /** Random per process start: bindings on stream flows are reachable only while this run lives. */
  readonly run: string;
}

/**
 * The node id: `configured` when set; else the one kept in `<dataDir>/node-id`; else a new one,
 * `<hostname>-<6 hex>`, written there (exclusively: two processes racing agree on one).
 */
export async function resolveNodeId(dataDir: string, configured?: string): Promise<string> {
  if (configured !== undefined) return configured;
  const path = join(dataDir, NODE_ID_FILE);
  const existing = await readNodeId(path);
  if (existing !== undefined) return existing;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 48);
  const id = `${host === '' ? 'node' : host}-${randomBytes(3).toString('hex')}`;
  try {
    await writeFile(path, id + '\n', { mode: 0o644, flag: 'wx' });
    return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new ConfigError('INVALID_ENV', `cannot create ${path} (set HANDSET_NODE_ID): ${(err as Error).message}`, {
        cause: err,
      });
    const raced = await readNodeId(path);
    if (raced === undefined) throw new ConfigError('INVALID_ENV', `${path} is empty (set HANDSET_NODE_ID)`);
    return raced;
  }
}

/** A new identity for this process: the stable id and a fresh run id. */
export async function nodeIdentity(dataDir: string, configured?: string): Promise<NodeIdentity> {
  return { id: await resolveNodeId(dataDir, configured), run: randomBytes(6).toString('hex') };
}

async function readNodeId(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('INVALID_ENV', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text === '') return undefined;
  if (!NODE_ID_PATTERN.test(text))
    throw new ConfigError('INVALID_ENV', `${path} does not hold a node id (letters, digits, . _ -); fix or delete it`);
  return text;
}
