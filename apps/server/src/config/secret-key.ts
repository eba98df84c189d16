import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { decodeKey } from './key-encoding.js';
import type { ServerConfig } from './server-config.js';

/** File name of the generated server key inside the data directory. */
export const SECRET_KEY_FILE = 'secret.key';

/**
 * The 32-byte server key: HANDSET_SECRET_KEY when set, else `<dataDir>/secret.key`, created on
 * first use (mode 0600, 32 random bytes written as base64). Two processes racing to create it
 * end up with the same key: the file is created exclusively and the loser reads the winner's.
 */
export async function loadSecretKey(config: Pick<ServerConfig, 'dataDir' | 'secretKey'>): Promise<Buffer> {
  if (config.secretKey) return config.secretKey;
  const path = join(config.dataDir, SECRET_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return existing;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError('SECRET_KEY', `cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
    const raced = await readKeyFile(path);
    if (!raced) throw new ConfigError('SECRET_KEY', `${path} is empty or unreadable`);
    return raced;
  }
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('SECRET_KEY', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  // A file being written by a racing process may still be empty: treat it like a missing one once.
  if (raw.length === 0) return undefined;
  const key = raw.length === 32 ? raw : decodeKey(raw.toString('utf8'));
  if (!key) {
    throw new ConfigError('SECRET_KEY', `${path} does not hold a 32-byte key (base64, hex or raw)`);
  }
  return key;
}
