import { eq } from 'drizzle-orm';
import { serverMeta } from './schema.js';
import { StoreError } from './store-error.js';
import type { Store } from './store.js';

const NAME = 'secret_key_id';

/**
 * Records the server key's fingerprint on first use and afterwards refuses a different key, so a
 * process started without HANDSET_SECRET_KEY (or with another data dir's secret.key) cannot seal
 * passwords that the server can no longer open.
 */
export async function verifyKeyId(store: Store, keyId: string): Promise<void> {
  await store.db.insert(serverMeta).values({ name: NAME, value: keyId }).onConflictDoNothing();
  const [row] = await store.db.select().from(serverMeta).where(eq(serverMeta.name, NAME));
  if (row?.value !== keyId) {
    throw new StoreError(
      'KEY_MISMATCH',
      'this server key differs from the one the database was set up with: every node sharing a database needs the same key. ' +
        'Set HANDSET_SECRET_KEY to the key `handset key show` prints on the first node (or copy its <dataDir>/secret.key)',
    );
  }
}
