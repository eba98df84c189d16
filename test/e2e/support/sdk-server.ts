import { createTestDatabase, type TestDatabase } from '../../../apps/server/src/store/test-databases.js';
import { startHandset, type HandsetProcess } from './handset.js';

/** The built Handset for the SDK tests, and how to stop it (and drop its database). */
export interface SdkServer {
  readonly handset: HandsetProcess;
  stop(): Promise<void>;
}

/**
 * Starts the built Handset on a throw-away PostgreSQL database when 127.0.0.1:5432 answers
 * (the embedded PGlite's start-up in its worker can take over the start deadline on a loaded
 * machine), else on PGlite as usual.
 */
export async function startSdkServer(): Promise<SdkServer> {
  const db: TestDatabase | undefined = await createTestDatabase().catch(() => undefined);
  try {
    const handset = await startHandset(db ? { DATABASE_URL: db.url } : {});
    return {
      handset,
      async stop() {
        await handset.stop();
        await db?.drop();
      },
    };
  } catch (err) {
    await db?.drop();
    throw err;
  }
}
