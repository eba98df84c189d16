import { and, eq, ne, type SQL } from 'drizzle-orm';
import { users } from '../store/schema.js';
import type { Store, Transaction } from '../store/store.js';
import { DirectoryError } from './directory-error.js';
import { userGroups } from './directory-tables.js';

/**
 * Users and groups share one number space per domain: an extension is free only when neither a
 * user nor a group has it. Each table's unique index covers its own side; this check covers the
 * other (a race between a user and a group taking the same number at the same instant is not).
 */
export async function assertExtensionFree(
  db: Store['db'] | Transaction,
  domainId: string,
  ext: string,
  domainName: string,
  self?: { kind: 'user' | 'group'; id: string },
): Promise<void> {
  const notSelf = (kind: 'user' | 'group', col: typeof users.id | typeof userGroups.id): SQL | undefined =>
    self?.kind === kind ? ne(col, self.id) : undefined;
  const [u] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.domainId, domainId), eq(users.ext, ext), notSelf('user', users.id)))
    .limit(1);
  const [g] = await db
    .select({ id: userGroups.id })
    .from(userGroups)
    .where(and(eq(userGroups.domainId, domainId), eq(userGroups.ext, ext), notSelf('group', userGroups.id)))
    .limit(1);
  if (u || g)
    throw new DirectoryError(
      'DUPLICATE_EXTENSION',
      `extension ${ext} already exists in ${domainName}${g ? ' (a group has it)' : ''}`,
    );
}
