/**
 * Where an adapter keeps each phone's device password (SetManagerPassword), to identify again
 * with `auth` after a restart. Implement it over your own database, or use the two below.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The password storage hook of the configuration session. */
export interface PasswordStore {
  get(mac: string): Promise<string | undefined>;
  set(mac: string, password: string): Promise<void>;
}

/** Keeps passwords in memory (tests, or an adapter that re-provisions on every start). */
export class MemoryPasswordStore implements PasswordStore {
  readonly #map = new Map<string, string>();
  get(mac: string): Promise<string | undefined> {
    return Promise.resolve(this.#map.get(mac));
  }
  set(mac: string, password: string): Promise<void> {
    this.#map.set(mac, password);
    return Promise.resolve();
  }
}

/** Keeps passwords in a JSON file readable by its owner only (written atomically). */
export class FilePasswordStore implements PasswordStore {
  #chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  async get(mac: string): Promise<string | undefined> {
    return (await this.#read())[mac];
  }

  set(mac: string, password: string): Promise<void> {
    const next = this.#chain.then(async () => {
      const all = await this.#read();
      all[mac] = password;
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(all, null, 1), { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.path);
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Every MAC with a stored password. */
  async macs(): Promise<string[]> {
    return Object.keys(await this.#read());
  }

  async #read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }
}
