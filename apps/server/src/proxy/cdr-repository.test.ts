import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import type { Cdr } from './cdr.js';
import { CdrRepository } from './cdr-repository.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const T0 = Date.parse('2030-01-01T10:00:00.000Z');

function cdr(over: Partial<Cdr> = {}): Cdr {
  return {
    callId: 'c1',
    domain: 'a.example',
    caller: '1001@a.example',
    callee: '1002@a.example',
    startedAt: new Date(T0),
    endedAt: new Date(T0 + 5000),
    durationS: 5,
    billableS: 0,
    disposition: 'no-answer',
    sipStatus: 480,
    sipReason: 'Temporarily Unavailable',
    ...over,
  };
}

describe.each(testBackends(pgdb))('CdrRepository on %s', (_name, database) => {
  let store: Store;
  let repo: CdrRepository;
  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    repo = new CdrRepository(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe.skipIf(!database)('', () => {
    it('keeps every field of an answered call, with fractional seconds', async () => {
      const answered = cdr({
        callId: 'answered',
        callerDevice: 'baresip 3.x',
        calleeDevice: 'JsSIP 3.13.8',
        answeredAt: new Date(T0 + 2500),
        endedAt: new Date(T0 + 65_123),
        durationS: 65.123,
        billableS: 62.623,
        disposition: 'answered',
        sipStatus: 200,
        sipReason: 'OK',
        hangupBy: 'callee',
      });
      await repo.insert(answered);
      const [got] = (await repo.list({ domain: 'a.example', limit: 100 })).filter((c) => c.callId === 'answered');
      expect(got).toEqual({ ...answered, id: expect.any(String) as string });
    });

    it('lists newest first, filtered by domain and limited', async () => {
      await repo.insert(cdr({ callId: 'b-old', domain: 'b.example', startedAt: new Date(T0 - 60_000) }));
      await repo.insert(cdr({ callId: 'b-new', domain: 'b.example', startedAt: new Date(T0 + 60_000) }));
      await repo.insert(cdr({ callId: 'c-1', domain: 'c.example' }));
      expect((await repo.list({ domain: 'b.example', limit: 10 })).map((c) => c.callId)).toEqual(['b-new', 'b-old']);
      expect((await repo.list({ domain: 'B.Example', limit: 1 })).map((c) => c.callId)).toEqual(['b-new']);
      expect((await repo.list({ limit: 1000 })).map((c) => c.callId)).toEqual(
        expect.arrayContaining(['b-new', 'b-old', 'c-1']),
      );
      expect(await repo.list({ domain: 'nobody.example', limit: 10 })).toEqual([]);
    });

    it('writes many calls ending at once in batches, every one of them', async () => {
      const batched = new CdrRepository(store, { maxBatch: 64, flushDelayMs: 10 });
      const ids = Array.from({ length: 300 }, (_, i) => `burst-${i}`);
      await Promise.all(ids.map((callId) => batched.insert(cdr({ callId, domain: 'burst.example' }))));
      const got = await repo.list({ domain: 'burst.example', limit: 1000 });
      expect(got.map((c) => c.callId).sort()).toEqual([...ids].sort());
    });

    it('loses only the row the database refuses, not the rest of its batch', async () => {
      const batched = new CdrRepository(store, { maxBatch: 1000, flushDelayMs: 10 });
      const results = await Promise.allSettled([
        batched.insert(cdr({ callId: 'ok-1', domain: 'mixed.example' })),
        // PostgreSQL text cannot hold NUL: this row fails (as a hostile From header could make it).
        batched.insert(cdr({ callId: 'bad', domain: 'mixed.example', caller: 'evil\u0000@mixed.example' })),
        batched.insert(cdr({ callId: 'ok-2', domain: 'mixed.example' })),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const got = await repo.list({ domain: 'mixed.example', limit: 10 });
      expect(got.map((c) => c.callId).sort()).toEqual(['ok-1', 'ok-2']);
    });

    it('flush() writes what is queued before its timer is due', async () => {
      const slow = new CdrRepository(store, { flushDelayMs: 60_000 });
      const written = slow.insert(cdr({ callId: 'flushed', domain: 'flush.example' }));
      await slow.flush();
      await written;
      expect((await repo.list({ domain: 'flush.example', limit: 10 })).map((c) => c.callId)).toEqual(['flushed']);
    });
  });
});
