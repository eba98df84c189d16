import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { PROVISION_MESSAGES as M } from './provisioning-service.js';
import { provisioningWorld, sessionTalkAccount, type ProvisioningWorld } from './provisioning-test-world.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const APP_A = 'android-install-a1b2c3';
const APP_B = 'android-install-d4e5f6';
const IOS = '6A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D';
const WINDOWS = '6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const DAY_MS = 86_400_000;

interface RuleContext {
  w: ProvisioningWorld;
  domain: string;
  domainId: string;
  /** Provision in this row's domain as ext 1001 unless told otherwise. */
  call(r: {
    token: string;
    appDeviceId: string;
    reprovision?: boolean;
    ext?: string;
  }): ReturnType<ProvisioningWorld['provision']>;
  devices(): ReturnType<ProvisioningWorld['devices']['list']>;
  auditReasons(action: string): Promise<unknown[]>;
}

/** One row per activation rule of the seed, named as there. */
const RULES: Array<{ rule: string; run: (c: RuleContext) => Promise<void> }> = [
  {
    rule: 'New App Installation with Fresh QR Code: activates and creates a device storing the settings and unique identifier',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      const a = await c.call({ token: code.token, appDeviceId: APP_A });
      expect(a.status).toBe(200);
      expect(a.body).toEqual({
        update: true,
        errmsg: M.activated,
        sipaccounts: [sessionTalkAccount('1001', c.domain.split('.')[0]!)],
      });
      const [device, ...more] = await c.devices();
      expect(more).toEqual([]);
      expect(device).toMatchObject({
        appDeviceId: APP_A,
        template: 'sessiontalk/android',
        codeId: code.codeId,
        ext: '1001',
        enabled: true,
      });
      expect(device!.jsonMd5).toMatch(/^[0-9a-f]{32}$/);
      expect(device!.lines.map((l) => [l.ext, l.transport])).toEqual([['1001', 'udp']]);
      expect(await c.auditReasons('activate')).toEqual(['new app, fresh code']);
      // The next start of the same app: nothing changed, so no update.
      const again = await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true });
      expect(again.body).toMatchObject({ update: false, errmsg: M.provisioned });
      expect(again.body.sipaccounts).toHaveLength(1);
    },
  },
  {
    rule: 'New App with Previously Used QR Code: updates the device made with it; the app that used it before logs out',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      await c.call({ token: code.token, appDeviceId: APP_A });
      const [before] = await c.devices();
      c.w.now.ms += DAY_MS; // still inside qr_expiration (2 days)
      const b = await c.call({ token: code.token, appDeviceId: IOS });
      expect(b.body).toMatchObject({ update: true, errmsg: M.moved });
      expect(b.body.sipaccounts.map((s) => s.sipusername)).toEqual(['1001']);
      const after = await c.devices();
      expect(after.map((d) => [d.id, d.appDeviceId, d.template])).toEqual([[before!.id, IOS, 'sessiontalk/ios']]);
      const old = await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true });
      expect(old.body).toEqual({ update: true, errmsg: M.invalidDevice, sipaccounts: [] });
      const moved = await c.call({ token: code.token, appDeviceId: IOS, reprovision: true });
      expect(moved.body).toMatchObject({ update: false });
      expect(await c.auditReasons('activate')).toEqual(['new app, fresh code', 'new app, previously used code']);
      expect(await c.auditReasons('deactivate')).toEqual(['the activation moved to another app']);
    },
  },
  {
    rule: 'New App with Expired QR Code: activation denied',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      c.w.now.ms += 172_800_000;
      const a = await c.call({ token: code.token, appDeviceId: APP_A });
      expect(a).toEqual({ status: 200, body: { update: true, errmsg: M.expiredCode, sipaccounts: [] } });
      expect(await c.devices()).toEqual([]);
      expect(await c.auditReasons('refuse')).toEqual(['this activation code has expired']);
    },
  },
  {
    rule: 'Existing App with Fresh QR Code: deletes the existing device and recreates it with the new code id and fresh lines',
    async run(c) {
      const first = await c.w.issue(c.domain, '1001');
      await c.call({ token: first.token, appDeviceId: APP_A });
      const [old] = await c.devices();
      await c.w.devices.addLine(old!.id, {
        domainId: c.domainId,
        userId: (await userId(c, '1002'))!,
        ext: '1002',
        transport: 'tcp',
      });
      const fresh = await c.w.issue(c.domain, '1001');
      const a = await c.call({ token: fresh.token, appDeviceId: APP_A });
      expect(a.body).toMatchObject({ update: true, errmsg: M.activated });
      expect(a.body.sipaccounts.map((s) => s.sipusername)).toEqual(['1001']);
      const [device, ...more] = await c.devices();
      expect(more).toEqual([]);
      expect(device!.id).not.toBe(old!.id);
      expect(device!.codeId).toBe(fresh.codeId);
      expect(device!.lines.map((l) => l.ext)).toEqual(['1001']);
      expect(await c.auditReasons('deactivate')).toEqual(['existing app, fresh code']);
    },
  },
  {
    rule: 'Existing App with Previously Used QR Code, used together before: activates as normal (even after the code expired)',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      await c.call({ token: code.token, appDeviceId: APP_A });
      const [device] = await c.devices();
      c.w.now.ms += 30 * DAY_MS;
      const a = await c.call({ token: code.token, appDeviceId: APP_A });
      expect(a.body).toMatchObject({ update: false, errmsg: M.reactivated });
      expect(a.body.sipaccounts).toHaveLength(1);
      expect((await c.devices()).map((d) => d.id)).toEqual([device!.id]);
    },
  },
  {
    rule: 'Existing App with Previously Used QR Code, both present but not used together: deletes both devices and creates a new one',
    async run(c) {
      c.w.settings.set('sessiontalk.max_activations', 0, c.domainId);
      const one = await c.w.issue(c.domain, '1001');
      const two = await c.w.issue(c.domain, '1001');
      await c.call({ token: one.token, appDeviceId: APP_A });
      await c.call({ token: two.token, appDeviceId: APP_B });
      const before = await c.devices();
      expect(before).toHaveLength(2);
      const a = await c.call({ token: two.token, appDeviceId: APP_A });
      expect(a.body).toMatchObject({ update: true, errmsg: M.activated });
      const after = await c.devices();
      expect(after).toHaveLength(1);
      expect(before.map((d) => d.id)).not.toContain(after[0]!.id);
      expect(after[0]).toMatchObject({ appDeviceId: APP_A, codeId: two.codeId });
      expect(await c.auditReasons('deactivate')).toEqual([
        'existing app and used code, not used together',
        'existing app and used code, not used together',
      ]);
      // The other app lost its device: it logs out at its next start.
      expect((await c.call({ token: two.token, appDeviceId: APP_B, reprovision: true })).body.sipaccounts).toEqual([]);
    },
  },
  {
    rule: 'Deleted Devices will De-Activate themselves, but a still-valid QR code can re-activate until it expires',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      await c.call({ token: code.token, appDeviceId: APP_A });
      const [device] = await c.devices();
      await c.w.devices.delete([device!.id]);
      const next = await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true });
      expect(next.body).toEqual({ update: true, errmsg: M.invalidDevice, sipaccounts: [] });
      const again = await c.call({ token: code.token, appDeviceId: APP_A });
      expect(again.body).toMatchObject({ update: true, errmsg: M.activated });
      const [reborn] = await c.devices();
      await c.w.devices.delete([reborn!.id]);
      c.w.now.ms += 3 * DAY_MS;
      expect((await c.call({ token: code.token, appDeviceId: APP_A })).body.errmsg).toBe(M.expiredCode);
      expect(await c.devices()).toEqual([]);
    },
  },
  {
    rule: 'Disabled Devices will not de-activate the app, but get no settings changes until re-enabled',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      await c.call({ token: code.token, appDeviceId: APP_A });
      const [device] = await c.devices();
      await c.w.devices.update(device!.id, { enabled: false });
      await c.w.devices.addLine(device!.id, {
        domainId: c.domainId,
        userId: (await userId(c, '1002'))!,
        ext: '1002',
        transport: 'tls',
      });
      const disabled = await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true });
      expect(disabled.body).toEqual({ update: false, errmsg: M.disabled, sipaccounts: [] });
      await c.w.devices.update(device!.id, { enabled: true });
      const enabled = await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true });
      expect(enabled.body.update).toBe(true);
      expect(enabled.body.sipaccounts.map((s) => [s.sipusername, s.sippassword, s.transport])).toEqual([
        ['1001', 'pw-1001', 'UDP'],
        ['1002', 'pw-1002', 'TLS'],
      ]);
    },
  },
  {
    rule: 'max_activations counts active apps per extension across its lines and refuses beyond it',
    async run(c) {
      const first = await c.w.issue(c.domain, '1001');
      await c.call({ token: first.token, appDeviceId: APP_A });
      const second = await c.w.issue(c.domain, '1001');
      const refused = await c.call({ token: second.token, appDeviceId: APP_B });
      expect(refused.body).toEqual({ update: true, errmsg: M.maxDevices, sipaccounts: [] });
      expect(await c.auditReasons('refuse')).toEqual(['extension 1001 already has 1 of 1 activated apps']);
      // 1001 also rides as a line on 1002's app: that counts as a second activation.
      c.w.settings.set('sessiontalk.max_activations', 2, c.domainId);
      const other = await c.w.issue(c.domain, '1002');
      await c.call({ token: other.token, appDeviceId: WINDOWS, ext: '1002' });
      const windows = (await c.devices()).find((d) => d.appDeviceId === WINDOWS)!;
      expect(windows.template).toBe('sessiontalk/windows');
      await c.w.devices.addLine(windows.id, {
        domainId: c.domainId,
        userId: (await userId(c, '1001'))!,
        ext: '1001',
        transport: 'udp',
      });
      expect((await c.call({ token: second.token, appDeviceId: APP_B })).body.errmsg).toBe(M.maxDevices);
      c.w.settings.set('sessiontalk.max_activations', 0, c.domainId);
      expect((await c.call({ token: second.token, appDeviceId: APP_B })).body.errmsg).toBe(M.activated);
    },
  },
  {
    rule: 'A refused activation deletes nothing (existing app, fresh code for an extension at its limit)',
    async run(c) {
      const mine = await c.w.issue(c.domain, '1001');
      await c.call({ token: mine.token, appDeviceId: APP_A });
      const theirs = await c.w.issue(c.domain, '1002');
      await c.call({ token: theirs.token, appDeviceId: APP_B, ext: '1002' });
      const another = await c.w.issue(c.domain, '1002');
      const refused = await c.call({ token: another.token, appDeviceId: APP_A, ext: '1002' });
      expect(refused.body.errmsg).toBe(M.maxDevices);
      expect((await c.devices()).map((d) => d.appDeviceId).sort()).toEqual([APP_A, APP_B].sort());
      expect(
        (await c.call({ token: mine.token, appDeviceId: APP_A, reprovision: true })).body.sipaccounts,
      ).toHaveLength(1);
    },
  },
  {
    rule: 'Clearing json_md5 makes the next update recreate the accounts',
    async run(c) {
      const code = await c.w.issue(c.domain, '1001');
      await c.call({ token: code.token, appDeviceId: APP_A });
      const [device] = await c.devices();
      expect((await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true })).body.update).toBe(false);
      await c.w.devices.update(device!.id, { jsonMd5: null });
      expect((await c.call({ token: code.token, appDeviceId: APP_A, reprovision: true })).body.update).toBe(true);
    },
  },
];

async function userId(c: RuleContext, ext: string): Promise<string | undefined> {
  return (await c.w.directory.listUsers({ domain: c.domain })).find((u) => u.ext === ext)?.id;
}

describe.each(testBackends(pgdb))('activation rules on %s', (_name, database) => {
  let w: ProvisioningWorld;
  let n = 0;
  beforeAll(async () => {
    if (database) w = await provisioningWorld(database);
  });
  afterAll(async () => {
    await w?.close();
  });

  it.skipIf(!database).each(RULES)('$rule', async ({ run }) => {
    const domain = `rule${++n}.acme.example`;
    const domainId = await w.addDomain(domain);
    const c: RuleContext = {
      w,
      domain,
      domainId,
      call: (r) =>
        w.provision({
          domain,
          ext: r.ext ?? '1001',
          reprovision: r.reprovision ?? false,
          token: r.token,
          appDeviceId: r.appDeviceId,
        }),
      devices: () => w.devices.list({ domainId }),
      async auditReasons(action) {
        return (await w.auditOf(domainId)).filter((e) => e.action === action).map((e) => e.detail?.reason);
      },
    };
    await run(c);
  });

  it.skipIf(!database)('concurrent activations of one app end with one device and no server error', async () => {
    const domain = 'race.acme.example';
    const domainId = await w.addDomain(domain);
    w.settings.set('sessiontalk.max_activations', 0, domainId);
    const a = await w.issue(domain, '1001');
    const b = await w.issue(domain, '1002');
    const answers = await Promise.all([
      w.provision({ domain, ext: '1001', token: a.token, appDeviceId: APP_A }),
      w.provision({ domain, ext: '1002', token: b.token, appDeviceId: APP_A }),
      w.provision({ domain, ext: '1001', token: a.token, appDeviceId: APP_B }),
    ]);
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200]);
    const devices = await w.devices.list({ domainId });
    // Which app ends up holding which code depends on the order the three ran in (the rules move a
    // used code to the newer app); what must hold in every order: no app has two devices, no code two.
    expect(devices.filter((d) => d.appDeviceId === APP_A).length).toBeLessThanOrEqual(1);
    expect(devices.filter((d) => d.appDeviceId === APP_B).length).toBeLessThanOrEqual(1);
    expect(devices.length).toBeGreaterThanOrEqual(1);
    expect(new Set(devices.map((d) => d.codeHash)).size).toBe(devices.length);
  });
});
