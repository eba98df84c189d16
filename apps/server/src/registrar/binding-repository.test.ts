import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import type { Binding } from './binding.js';
import { BindingRepository } from './binding-repository.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const NOW = Date.parse('2030-01-01T00:00:00.000Z');

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: '1001@example.com',
    domain: 'example.com',
    key: 'sip:1001@192.0.2.1:5060',
    contactUri: 'sip:1001@192.0.2.1:5060',
    path: [],
    callId: 'call-1',
    cseq: 1,
    expiresAt: NOW + 3600_000,
    transport: 'udp',
    sourceAddress: '192.0.2.1',
    sourcePort: 5060,
    receivedAt: NOW,
    ...over,
  };
}

const sortByKey = (list: Binding[]) => [...list].sort((a, b) => `${a.aor} ${a.key}`.localeCompare(`${b.aor} ${b.key}`));

describe.each(testBackends(pgdb))('BindingRepository on %s', (_name, database) => {
  let store: Store;
  let repo: BindingRepository;
  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    repo = new BindingRepository(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe.skipIf(!database)('', () => {
    it('stores and reloads a binding field for field, optional fields included', async () => {
      const full = binding({
        aor: 'full@example.com',
        key: '<urn:uuid:00000000-0000-4000-8000-000000000001>',
        instanceId: '<urn:uuid:00000000-0000-4000-8000-000000000001>',
        regId: 1,
        contactUri: 'sip:full@abc.invalid;transport=ws',
        path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr;ob>'],
        flowId: 'ws:7',
        transport: 'ws',
        userAgent: 'JsSIP 3.13.8',
        q: 0.7,
        expiresAt: NOW + 123_456,
        receivedAt: NOW + 1,
      });
      const bare = binding({ aor: 'bare@example.com' });
      await repo.upsert(full);
      await repo.upsert(bare);
      const loaded = await repo.loadAll(NOW);
      expect(loaded.find((b) => b.aor === 'full@example.com')).toEqual(full);
      const reloadedBare = loaded.find((b) => b.aor === 'bare@example.com')!;
      expect(reloadedBare).toEqual({
        ...bare,
        instanceId: undefined,
        regId: undefined,
        flowId: undefined,
        userAgent: undefined,
        q: undefined,
      });
      await repo.removeAll('full@example.com');
      await repo.removeAll('bare@example.com');
    });

    it('stores text the network sent as it was: quotes, backslashes, non-ASCII, JSON and SQL syntax', async () => {
      const odd = binding({
        aor: "o'dd@example.com",
        key: 'sip:"q"@192.0.2.9;x=\\;y={a,b}',
        contactUri: 'sip:"q"@192.0.2.9;x=\\;y={a,b}',
        callId: `c-"}]'); drop table bindings; --`,
        userAgent: 'Zoë/1.0 (☎ "quoted" \\ back\tslash) 📞',
        path: ['<sip:"edge"@example.com;lr>', '[{"not": "json"}]'],
        instanceId: '<urn:uuid:"x">',
        regId: 2,
        q: 0.125,
        expiresAt: NOW + 1,
        receivedAt: NOW - 999,
      });
      await repo.upsertMany([odd]);
      const loaded = (await repo.loadAll(NOW)).find((b) => b.aor === odd.aor);
      expect(loaded).toEqual({ ...odd, flowId: undefined });
      await repo.removeAll(odd.aor);
    });

    it('replaces a binding with the same AOR and key (re-REGISTER)', async () => {
      const aor = 'replace@example.com';
      await repo.upsert(binding({ aor, cseq: 1, callId: 'a' }));
      await repo.upsert(binding({ aor, cseq: 2, callId: 'a', expiresAt: NOW + 60_000 }));
      const mine = (await repo.loadAll(NOW)).filter((b) => b.aor === aor);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ cseq: 2, expiresAt: NOW + 60_000 });
      await repo.removeAll(aor);
    });

    it('writes a batch where the last change to a key wins', async () => {
      const aor = 'batch@example.com';
      const many = Array.from({ length: 1200 }, (_, i) =>
        binding({ aor, key: `sip:${i}@h`, contactUri: `sip:${i}@h` }),
      );
      await repo.upsertMany([...many, binding({ aor, key: 'sip:0@h', contactUri: 'sip:0@h', cseq: 99 })]);
      const mine = (await repo.loadAll(NOW)).filter((b) => b.aor === aor);
      expect(mine).toHaveLength(1200);
      expect(mine.find((b) => b.key === 'sip:0@h')?.cseq).toBe(99);
      await repo.removeMany(many.slice(0, 1100).map((b) => ({ aor: b.aor, key: b.key })));
      expect((await repo.loadAll(NOW)).filter((b) => b.aor === aor)).toHaveLength(100);
      await repo.removeAll(aor);
      expect((await repo.loadAll(NOW)).filter((b) => b.aor === aor)).toHaveLength(0);
    });

    it('reclaims space after replacements and keeps every live binding', async () => {
      const aor = 'vacuum@example.com';
      for (let round = 1; round <= 3; round++) {
        await repo.upsertMany(
          Array.from({ length: 50 }, (_, i) =>
            binding({ aor, key: `sip:${i}@h`, contactUri: `sip:${i}@h`, cseq: round }),
          ),
        );
      }
      await repo.maintain();
      const mine = (await repo.loadAll(NOW)).filter((b) => b.aor === aor);
      expect(mine).toHaveLength(50);
      expect(mine.every((b) => b.cseq === 3)).toBe(true);
      await repo.removeAll(aor);
    });

    it("removes one binding and leaves the AOR's others", async () => {
      const aor = 'two@example.com';
      const a = binding({ aor, key: 'sip:a@h', contactUri: 'sip:a@h' });
      const b = binding({ aor, key: 'sip:b@h', contactUri: 'sip:b@h' });
      await repo.upsertMany([a, b]);
      await repo.remove(aor, 'sip:a@h');
      expect((await repo.loadAll(NOW)).filter((x) => x.aor === aor)).toEqual([b]);
      await repo.removeAll(aor);
    });

    it('does not reload expired bindings and purges them', async () => {
      const aor = 'expiry@example.com';
      const live = binding({ aor, key: 'sip:live@h', contactUri: 'sip:live@h', expiresAt: NOW + 1000 });
      const dead = binding({ aor, key: 'sip:dead@h', contactUri: 'sip:dead@h', expiresAt: NOW - 1 });
      const edge = binding({ aor, key: 'sip:edge@h', contactUri: 'sip:edge@h', expiresAt: NOW });
      await repo.upsertMany([live, dead, edge]);
      expect(sortByKey((await repo.loadAll(NOW)).filter((b) => b.aor === aor))).toEqual([live]);
      expect(await repo.purgeExpired(NOW)).toBe(2);
      expect(await repo.purgeExpired(NOW)).toBe(0);
      expect((await repo.loadAll(0)).filter((b) => b.aor === aor)).toEqual([live]);
      await repo.removeAll(aor);
    });
  });
});
