import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryError } from '../directory/directory-error.js';
import { DirectoryService } from '../directory/directory-service.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { SettingsRegistry } from '../directory/settings-registry.js';
import { SettingsService } from '../directory/settings-service.js';
import { SecretBox } from '../config/secret-box.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { RegistryProvisioningSettings, defineSessionTalkSettings } from './registry-provisioning-settings.js';
import { randomBytes } from 'node:crypto';

describe('sessiontalk settings in the settings registry', () => {
  let store: Store;
  let service: SettingsService;
  let domainId: string;
  const now = { ms: 0 };
  beforeAll(async () => {
    store = await openStore({ database: { kind: 'pglite', dir: undefined } });
    const registry = new SettingsRegistry();
    defineSessionTalkSettings(registry);
    service = new SettingsService(store, registry);
    domainId = (await new DirectoryService(store, new SecretBox(randomBytes(32))).addDomain('settings.example')).id;
  });
  afterAll(async () => {
    await store?.close();
  });

  it('registers every key with its default and refuses bad values with the key named', async () => {
    const views = await service.list(CLI_PRINCIPAL, domainId);
    expect(views.filter((v) => v.key.startsWith('sessiontalk.')).map((v) => [v.key, v.value])).toEqual(
      expect.arrayContaining([
        ['sessiontalk.max_activations', 1],
        ['sessiontalk.qr_expiration', 172_800],
        ['sessiontalk.transport', 'udp'],
        ['sessiontalk.key_rotation', 2_492_000],
      ]),
    );
    const err = await service
      .set(CLI_PRINCIPAL, 'sessiontalk.transport', 'carrier-pigeon', domainId)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryError);
    expect((err as DirectoryError).fields).toEqual({ 'sessiontalk.transport': 'must be udp, tcp or tls' });
  });

  it('resolves per-domain overrides, cached for a moment', async () => {
    const settings = new RegistryProvisioningSettings(service, pino({ level: 'silent' }), 5000, () => now.ms);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.transport', 'TLS', domainId);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.max_activations', '3', domainId);
    expect(await settings.get(domainId)).toMatchObject({ transport: 'tls', maxActivations: 3 });
    await service.set(CLI_PRINCIPAL, 'sessiontalk.max_activations', 4, domainId);
    expect((await settings.get(domainId)).maxActivations).toBe(3);
    now.ms += 5000;
    expect((await settings.get(domainId)).maxActivations).toBe(4);
  });

  it('refuses a qr_expiration above key_rotation (and a key_rotation below it), naming the key; nothing changes', async () => {
    const other = (await new DirectoryService(store, new SecretBox(randomBytes(32))).addDomain('rule.example')).id;
    // The default qr_expiration (172800 s) is above 7200 s: lowering key_rotation first is refused.
    const first = await service.set(CLI_PRINCIPAL, 'sessiontalk.key_rotation', 7200, other).catch((e: unknown) => e);
    expect((first as DirectoryError).fields?.['sessiontalk.key_rotation']).toMatch(/must not exceed/);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 7000, other);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.key_rotation', 7200, other);
    const tooLong = await service
      .set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 86_400, other)
      .catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(DirectoryError);
    expect((tooLong as DirectoryError).fields?.['sessiontalk.qr_expiration']).toMatch(
      /must not exceed sessiontalk\.key_rotation/,
    );
    expect(await service.get('sessiontalk.qr_expiration', other)).toBe(7000);
    const tooShort = await service.set(CLI_PRINCIPAL, 'sessiontalk.key_rotation', 5000, other).catch((e: unknown) => e);
    expect((tooShort as DirectoryError).fields?.['sessiontalk.key_rotation']).toMatch(/must not exceed/);
    expect(await service.get('sessiontalk.key_rotation', other)).toBe(7200);
    // Within the bound it is taken.
    await service.set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 7200, other);
    expect(await service.get('sessiontalk.qr_expiration', other)).toBe(7200);
  });

  it('limits codes to key_rotation when a server-wide change leaves a domain override above it', async () => {
    const settings = new RegistryProvisioningSettings(service, pino({ level: 'silent' }), 0, () => now.ms);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 86_400, domainId);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 3600);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.key_rotation', 7200);
    expect(await settings.get(domainId)).toMatchObject({ keyRotationS: 7200, qrExpirationS: 7200 });
  });
});

describe('sessiontalk.transport on a server without TLS', () => {
  it('refuses tls, naming the key and the fix, and keeps udp and tcp', async () => {
    const store = await openStore({ database: { kind: 'pglite', dir: undefined } });
    try {
      const registry = new SettingsRegistry();
      defineSessionTalkSettings(registry, { sipTls: false });
      const service = new SettingsService(store, registry);
      const id = (await new DirectoryService(store, new SecretBox(randomBytes(32))).addDomain('plain.example')).id;
      const err = await service.set(CLI_PRINCIPAL, 'sessiontalk.transport', 'tls', id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryError);
      expect((err as DirectoryError).fields?.['sessiontalk.transport']).toMatch(/SIP over TLS is off.*HANDSET_TLS/);
      expect(await service.get('sessiontalk.transport', id)).toBe('udp');
      await service.set(CLI_PRINCIPAL, 'sessiontalk.transport', 'tcp', id);
      expect(await service.get('sessiontalk.transport', id)).toBe('tcp');
    } finally {
      await store.close();
    }
    // An in-memory PGlite runs initdb: slow on a loaded host.
  }, 180_000);
});
