import { randomBytes } from 'node:crypto';
import { computeHa1, DIGEST_ALGORITHMS } from '@handset/sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { DirectoryService } from '../directory/directory-service.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { SubscriberCache, type SubscriberSource } from './subscriber-directory.js';

/** The real directory on PGlite, with a count of the calls the cache makes to it. */
function counted(dir: DirectoryService): SubscriberSource & { calls: Record<string, number> } {
  const calls: Record<string, number> = { listSipCredentials: 0, isLocalDomain: 0, getSipCredentials: 0 };
  return {
    calls,
    listActiveDomainNames: () => dir.listActiveDomainNames(),
    listSipCredentials: (domain) => (calls.listSipCredentials!++, dir.listSipCredentials(domain)),
    isLocalDomain: (domain) => (calls.isLocalDomain!++, dir.isLocalDomain(domain)),
    getSipCredentials: (domain, ext) => (calls.getSipCredentials!++, dir.getSipCredentials(domain, ext)),
  };
}

describe('SubscriberCache over the directory (PGlite)', () => {
  let store: Store;
  let dir: DirectoryService;
  beforeAll(async () => {
    store = await openStore({ database: { kind: 'pglite', dir: undefined } });
    dir = new DirectoryService(store, new SecretBox(randomBytes(32)));
    await dir.verifySecretKey();
    await dir.addDomain('early.example');
    await dir.addUser({ domain: 'early.example', ext: '100', password: 'pw-early' });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('serves preloaded users as HA1 and never keeps the password', async () => {
    const cache = new SubscriberCache(counted(dir), { algorithms: ['MD5', 'SHA-256'] });
    await cache.start();
    try {
      expect(await cache.isLocalDomain('EARLY.example')).toBe(true);
      const secret = await cache.digestSecret('early.example', '100');
      expect(secret?.ha1).toEqual({
        MD5: computeHa1(DIGEST_ALGORITHMS.MD5, '100', 'early.example', 'pw-early'),
        'SHA-256': computeHa1(DIGEST_ALGORITHMS['SHA-256'], '100', 'early.example', 'pw-early'),
      });
      expect(JSON.stringify(secret)).not.toContain('pw-early');
      expect(await cache.userExists('early.example', '999')).toBe(false);
    } finally {
      cache.close();
    }
  });

  it('a burst of requests for a domain added after start reloads that domain once, not once per request', async () => {
    const source = counted(dir);
    const cache = new SubscriberCache(source, { algorithms: ['MD5'] });
    await cache.start();
    try {
      await dir.addDomain('late.example');
      await dir.importUsers('late.example', 'ext,password\n200,pw-200\n201,pw-201\n');
      const loadsBefore = source.calls.listSipCredentials!;
      // 200 REGISTERs arrive together, as a phone fleet does after the domain is created.
      const answers = await Promise.all(Array.from({ length: 200 }, () => cache.isLocalDomain('late.example')));
      expect(answers.every((a) => a)).toBe(true);
      expect(source.calls.listSipCredentials! - loadsBefore).toBe(1);
      expect(await cache.digestSecret('late.example', '201')).toBeDefined();
      // Known now: further requests touch the store no more.
      const lookups = source.calls.isLocalDomain!;
      await cache.isLocalDomain('late.example');
      expect(source.calls.isLocalDomain).toBe(lookups);
    } finally {
      cache.close();
    }
  });

  it('an unknown domain is asked for once per burst and then remembered as missing', async () => {
    const source = counted(dir);
    const cache = new SubscriberCache(source, { algorithms: ['MD5'], negativeTtlMs: 60_000 });
    await cache.start();
    try {
      const before = source.calls.isLocalDomain!;
      const answers = await Promise.all(Array.from({ length: 50 }, () => cache.isLocalDomain('nowhere.example')));
      expect(answers.some((a) => a)).toBe(false);
      expect(source.calls.isLocalDomain! - before).toBe(1);
      expect(await cache.isLocalDomain('nowhere.example')).toBe(false);
      expect(source.calls.isLocalDomain! - before).toBe(1);
    } finally {
      cache.close();
    }
  });

  it('answers an unknown name with a decoy at once, the same each time, and finds a user added elsewhere in the background', async () => {
    const source = counted(dir);
    let now = 1_000;
    const cache = new SubscriberCache(source, { algorithms: ['MD5'], negativeTtlMs: 10_000, clock: () => now });
    await cache.start();
    try {
      const before = source.calls.getSipCredentials!;
      // The store is slow: the decoy must not wait for it.
      const slow = { ...source, getSipCredentials: () => new Promise<undefined>(() => {}) };
      const detached = new SubscriberCache(slow, { algorithms: ['MD5'] });
      const decoy = await detached.digestSecret('early.example', '555');
      expect(decoy !== undefined && 'ha1' in decoy ? decoy.ha1.MD5 : undefined).toMatch(/^[0-9a-f]{32}$/);
      expect(await detached.digestSecret('early.example', '555')).toBe(decoy);

      const first = await cache.digestSecret('early.example', '556');
      expect(first).toBeDefined();
      expect(await cache.digestSecret('early.example', '556')).toBe(first);
      await new Promise((r) => setTimeout(r, 50));
      expect(source.calls.getSipCredentials! - before).toBe(1); // once, in the background
      // Added by another process (no change event here): found on the next look after the negative ttl.
      await dir.addUser({ domain: 'early.example', ext: '556', password: 'pw-556' });
      now += 10_000;
      expect(await cache.digestSecret('early.example', '556')).toBe(first);
      await new Promise((r) => setTimeout(r, 50));
      expect(await cache.digestSecret('early.example', '556')).toEqual({
        ha1: { MD5: computeHa1(DIGEST_ALGORITHMS.MD5, '556', 'early.example', 'pw-556') },
      });
      expect(await cache.userExists('early.example', '556')).toBe(true);
    } finally {
      cache.close();
    }
  });
});
