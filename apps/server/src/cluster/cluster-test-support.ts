/** Shared by the cluster tests: the test Redis (skipped locally when absent; CI must have it). */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use (HANDSET_TEST_REDIS_URL, default the local one). */
export const TEST_REDIS_URL = process.env.HANDSET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the test Redis answers. */
export async function testRedisUp(): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (err) {
    if (process.env.CI) throw new Error(`Redis for tests is not reachable at ${TEST_REDIS_URL}`, { cause: err });
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix of its own per test run, so parallel runs never meet. */
export function testPrefix(): string {
  return `handset-test:${randomBytes(5).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Waits (up to 3 s) until `pred` holds. */
export async function until(pred: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`${what} not met in time`);
}
