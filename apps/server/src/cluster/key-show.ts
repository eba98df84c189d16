/**
 * `handset key show`: prints the server key, which every node of a cluster must share
 * (HANDSET_SECRET_KEY). Only the owner of the data directory may read it, as only they may read
 * `<dataDir>/secret.key`; it is never created here (a key nobody uses yet is not worth printing).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeKey } from '../config/key-encoding.js';
import { SECRET_KEY_FILE } from '../config/secret-key.js';
import type { ServerConfig } from '../config/server-config.js';
import { CliError } from '../cli/cli-error.js';

/** The server key as HANDSET_SECRET_KEY takes it (base64), for the owner of the data directory. */
export async function showServerKey(
  config: Pick<ServerConfig, 'dataDir' | 'secretKey'>,
  uid: number | undefined = process.getuid?.(),
): Promise<string> {
  let owner: number;
  try {
    owner = (await stat(config.dataDir)).uid;
  } catch {
    throw new CliError('FILE', `no data directory at ${config.dataDir} (set HANDSET_DATA_DIR)`);
  }
  if (uid !== undefined && uid !== 0 && uid !== owner)
    throw new CliError('FILE', `only the owner of ${config.dataDir} may see its server key (run as that user)`);
  if (config.secretKey) return config.secretKey.toString('base64');
  const path = join(config.dataDir, SECRET_KEY_FILE);
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError('FILE', `no server key yet in ${path}: start the server once, or set HANDSET_SECRET_KEY`);
    throw new CliError('FILE', `cannot read ${path}: ${(err as Error).message}`);
  }
  const key = raw.length === 32 ? raw : decodeKey(raw.toString('utf8'));
  if (!key) throw new CliError('FILE', `${path} does not hold a 32-byte key`);
  return key.toString('base64');
}
