import { describe, expect, it } from 'vitest';
import type { Domain } from '../directory/directory-types.js';
import { DOMAIN_CACHE_MS, directoryAdapter } from './directory-adapter.js';

/** A directory with one domain whose active flag a test flips; counts the domain look-ups. */
function fakeDirectory() {
  const acme: Domain = { id: 'd-1', domain: 'acme.example', active: true } as Domain;
  const listeners: Array<(domain?: string) => void> = [];
  const f = {
    lookups: 0,
    acme,
    changed: (domain?: string) => listeners.forEach((l) => l(domain)),
    directory: {
      getDomain: (name: string) => {
        f.lookups++;
        return Promise.resolve(name === acme.domain ? { ...acme } : undefined);
      },
      findActiveUser: () => Promise.resolve(undefined),
      listUsers: () => Promise.resolve([]),
      listDomains: () => Promise.resolve([]),
      getSipCredentials: () => Promise.resolve(undefined),
      onChange: (l: (domain?: string) => void) => {
        listeners.push(l);
        return () => undefined;
      },
    },
  };
  return f;
}

describe('provisioning directory adapter: domain look-ups', () => {
  it('asks the directory once per domain and period while a storm names it again and again', async () => {
    const f = fakeDirectory();
    const now = { ms: 1_000_000 };
    const d = directoryAdapter(f.directory, () => now.ms);
    for (let i = 0; i < 100; i++)
      expect(await d.findDomain('acme.example')).toEqual({ id: 'd-1', domain: 'acme.example' });
    expect(f.lookups).toBe(1);
    now.ms += DOMAIN_CACHE_MS;
    await d.findDomain('acme.example');
    expect(f.lookups).toBe(2);
  });

  it('stops answering for a deactivated domain after the period, or at once on a directory change', async () => {
    const f = fakeDirectory();
    const now = { ms: 1_000_000 };
    const d = directoryAdapter(f.directory, () => now.ms);
    await d.findDomain('acme.example');
    f.acme.active = false;
    now.ms += DOMAIN_CACHE_MS;
    expect(await d.findDomain('acme.example')).toBeUndefined();
    f.acme.active = true;
    await d.findDomain('acme.example');
    f.acme.active = false;
    f.changed('acme.example');
    expect(await d.findDomain('acme.example')).toBeUndefined();
  });

  it('never remembers an unknown name (a flood of made-up domains fills nothing)', async () => {
    const f = fakeDirectory();
    const d = directoryAdapter(f.directory);
    for (let i = 0; i < 3; i++) expect(await d.findDomain('ghost.example')).toBeUndefined();
    expect(f.lookups).toBe(3);
  });
});
