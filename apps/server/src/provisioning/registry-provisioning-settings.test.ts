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

  it('limits codes to key_rotation when the stored pair breaks the rule across keys', async () => {
    const settings = new RegistryProvisioningSettings(service, pino({ level: 'silent' }), 0, () => now.ms);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.key_rotation', 7200, domainId);
    await service.set(CLI_PRINCIPAL, 'sessiontalk.qr_expiration', 86_400, domainId);
    expect(await settings.get(domainId)).toMatchObject({ keyRotationS: 7200, qrExpirationS: 7200 });
  });
});
