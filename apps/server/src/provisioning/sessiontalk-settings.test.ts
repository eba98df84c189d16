import { describe, expect, it } from 'vitest';
import { MemoryProvisioningSettings } from './memory-provisioning-settings.js';
import {
  DEFAULT_SESSIONTALK_SETTINGS,
  SettingsValueError,
  resolveSessionTalkSettings,
} from './sessiontalk-settings.js';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsValueError) return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('sessiontalk settings', () => {
  it("has the seed's defaults", () => {
    expect(DEFAULT_SESSIONTALK_SETTINGS).toMatchObject({
      providerId: '',
      maxActivations: 1,
      qrExpirationS: 172_800,
      transport: 'udp',
      keyRotationS: 2_492_000,
      windowsSoftphone: true,
      srtp: 'Disabled',
      video: 'Disabled',
      callrecording: 'Disabled',
    });
  });

  it('accepts CLI strings and normalizes case', () => {
    const s = resolveSessionTalkSettings(
      (k) =>
        ({
          'sessiontalk.transport': 'TLS',
          'sessiontalk.srtp': 'enabled',
          'sessiontalk.windows_softphone': 'false',
          'sessiontalk.max_activations': '0',
        })[k as string],
    );
    expect(s).toMatchObject({ transport: 'tls', srtp: 'Enabled', windowsSoftphone: false, maxActivations: 0 });
  });

  it('refuses bad values with a message naming the key and the rule', () => {
    const settings = new MemoryProvisioningSettings();
    expect(message(() => settings.set('sessiontalk.transport', 'sctp'))).toBe(
      'sessiontalk.transport must be udp, tcp or tls',
    );
    expect(message(() => settings.set('sessiontalk.srtp', 'maybe'))).toBe(
      'sessiontalk.srtp must be Enabled or Disabled',
    );
    expect(message(() => settings.set('sessiontalk.max_activations', -1))).toMatch(
      /max_activations must be 0 \(unlimited\) or more/,
    );
    expect(message(() => settings.set('sessiontalk.provider_id', 'a:b'))).toMatch(/provider_id may hold only/);
    expect(message(() => settings.set('sessiontalk.qr_expiration', 'soon'))).toMatch(
      /qr_expiration must be a number of seconds/,
    );
  });

  it('refuses a qr_expiration above key_rotation, server-wide and per domain, and keeps the old value', async () => {
    const settings = new MemoryProvisioningSettings();
    expect(message(() => settings.set('sessiontalk.qr_expiration', 2_492_001))).toMatch(
      /qr_expiration \(2492001 s\) must not exceed sessiontalk.key_rotation \(2492000 s\)/,
    );
    settings.set('sessiontalk.qr_expiration', 7200, 'd1');
    expect(message(() => settings.set('sessiontalk.key_rotation', 3600, 'd1'))).toMatch(/must not exceed/);
    expect((await settings.get('d1')).keyRotationS).toBe(2_492_000);
    // A server-wide change that one domain's override would break is refused too.
    expect(message(() => settings.set('sessiontalk.key_rotation', 3600))).toMatch(/must not exceed/);
    settings.set('sessiontalk.key_rotation', 5_000_000);
    settings.set('sessiontalk.qr_expiration', 4_000_000);
    expect((await settings.get('d2')).qrExpirationS).toBe(4_000_000);
    expect((await settings.get('d1')).qrExpirationS).toBe(7200);
  });
});
