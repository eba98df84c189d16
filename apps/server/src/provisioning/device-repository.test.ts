import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { PROVISION_MESSAGES as M } from './provisioning-service.js';
import { provisioningWorld, type ProvisioningWorld } from './provisioning-test-world.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const FLEET = 40;
const exts = Array.from({ length: FLEET }, (_, i) => String(2000 + i));

describe.each(testBackends(pgdb))('a fleet re-provisioning at once on %s', (_name, database) => {
  let w: ProvisioningWorld;
  let domainId: string;
  const tokens = new Map<string, string>();
  const domain = 'fleet.acme.example';
  const app = (ext: string) => `android-fleet-${ext}`;
  const reprovisionAll = () =>
    Promise.all(
      exts.map((ext, i) =>
        w.provision({
          domain,
          ext,
          token: tokens.get(ext)!,
          appDeviceId: app(ext),
          reprovision: true,
          ip: `198.51.100.${i + 1}`,
        }),
      ),
    );
  const devices = async () => new Map((await w.devices.list({ domainId })).map((d) => [d.ext, d]));

  beforeAll(async () => {
    if (!database) return;
    w = await provisioningWorld(database);
    domainId = await w.addDomain(domain, exts);
    for (const ext of exts) {
      const code = await w.issue(domain, ext);
      tokens.set(ext, code.token);
      const first = await w.provision({ domain, ext, token: code.token, appDeviceId: app(ext) });
      expect(first.body).toMatchObject({ update: true, errmsg: M.activated });
    }
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  it.skipIf(!database)('records every contact, in a few statements rather than one per app', async () => {
    w.now.ms += 60_000;
    const execute = vi.spyOn(w.store.db, 'execute');
    const answers = await reprovisionAll();
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ update: false, errmsg: M.provisioned });
      expect(a.body.sipaccounts.map((s) => s.sipusername)).toEqual([exts[i]]);
    }
    // A re-provision that changes nothing writes its last contact behind the answer: wait for it.
    let reads = 0; // statements of the checks below, not of the re-provisioning
    await vi.waitFor(
      async () => {
        const before = execute.mock.calls.length;
        const after = await devices();
        reads += execute.mock.calls.length - before;
        for (const [i, ext] of exts.entries()) {
          expect(after.get(ext)?.lastProvisionedAt?.getTime()).toBe(w.now.ms);
          expect(after.get(ext)?.lastProvisionedIp).toBe(`198.51.100.${i + 1}`);
        }
      },
      { timeout: 15_000, interval: 100 },
    );
    const statements = execute.mock.calls.length - reads;
    execute.mockRestore();
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements).toBeLessThan(FLEET / 4);
  });

  it.skipIf(!database)('stores the hash of the accounts sent when the devices had none', async () => {
    const before = await devices();
    for (const d of before.values()) await w.devices.update(d.id, { jsonMd5: null });
    const full = await reprovisionAll();
    expect(full.every((a) => a.body.update && a.body.sipaccounts.length === 1)).toBe(true);
    const after = await devices();
    for (const ext of exts) expect(after.get(ext)?.jsonMd5).toBe(before.get(ext)?.jsonMd5);
    expect((await reprovisionAll()).every((a) => a.body.update === false)).toBe(true);
  });

  it.skipIf(!database)('two contacts of one device in one batch keep the last address and the hash sent', async () => {
    const d = (await devices()).get(exts[0]!)!;
    await w.devices.update(d.id, { jsonMd5: null });
    const t = new Date(w.now.ms + 5000);
    await Promise.all([
      w.devices.markProvisioned(d.id, new Date(w.now.ms + 4000), '203.0.113.1', 'a'.repeat(32)),
      w.devices.markProvisioned(d.id, t, '203.0.113.2'),
    ]);
    const after = (await devices()).get(exts[0]!)!;
    expect([after.lastProvisionedAt?.getTime(), after.lastProvisionedIp, after.jsonMd5]).toEqual([
      t.getTime(),
      '203.0.113.2',
      'a'.repeat(32),
    ]);
  });
});
