import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HandsetProcess } from './handset.js';

/**
 * Adds `domain` and imports `users` into it in one `handset users import` (CSV `ext,password,name`),
 * each with the password `password(ext)`.
 */
export async function provisionUsers(
  h: Pick<HandsetProcess, 'cli'>,
  domain: string,
  users: readonly string[],
  password: (ext: string) => string,
): Promise<void> {
  await h.cli('domains', 'add', domain);
  const dir = await mkdtemp(join(tmpdir(), 'handset-users-'));
  try {
    const file = join(dir, 'users.csv');
    await writeFile(
      file,
      ['ext,password,name', ...users.map((u) => `${u},${password(u)},User ${u}`)].join('\n') + '\n',
    );
    await h.cli('users', 'import', file, '--domain', domain);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `count` consecutive extensions from `first`, as strings. */
export function extensions(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(first + i));
}
