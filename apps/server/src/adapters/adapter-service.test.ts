/**
 * AdapterService over a real database (PGlite and PostgreSQL): the queue's timeout, code expiry
 * on a fake clock, rights, validation, audit, and the configuration it builds.
 */
import { randomBytes } from 'node:crypto';
import { decryptSecret, type ProviderServerFrame } from '@handset/device-adapter';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { TurnCredentials } from '../config/turn-credentials.js';
import { DirectoryService } from '../directory/directory-service.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL, type Principal } from '../directory/principal.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import type { AdapterService, ProviderLink } from './adapter-service.js';
import { createAdapters } from './adapter-wiring.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

/** A provider session that records what Handset sends it. */
function fakeLink(principal: Principal, token = 'hst_test-token'): ProviderLink & { frames: ProviderServerFrame[] } {
  const frames: ProviderServerFrame[] = [];
  return { principal, token, frames, send: (f) => frames.push(f), replaced: () => undefined, removed: () => undefined };
}

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(testBackends(pgdb))('AdapterService on %s', (_name, database) => {
  let store: Store;
  let services: DirectoryServices;
  let adapters: AdapterService;
  let now = Date.parse('2026-12-07T12:00:00Z');
  const domains: Record<'a' | 'b', string> = { a: '', b: '' };
  const principals: Record<'ownerA' | 'adminB' | 'agentA', Principal> = {} as never;

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    const secrets = new SecretBox(randomBytes(32));
    services = createDirectoryServices(store, secrets);
    adapters = createAdapters({
      store,
      secrets,
      directory: new DirectoryService(store, secrets),
      services,
      turn: new TurnCredentials({
        urls: ['stun:stun.example.net:3478', 'turn:turn.example.net:3478'],
        turnSecret: 'coturn-secret',
        turnTtlS: 86_400,
      }),
      publicHost: 'pbx.example.net',
      sipPorts: () => ({ udp: 5060, tcp: 5070 }),
      logger: pino({ level: 'silent' }),
      resultTimeoutMs: 300,
      clock: () => now,
    });
    for (const k of ['a', 'b'] as const) {
      const d = await services.domains.create(CLI_PRINCIPAL, { domain: `${k}.example` });
      domains[k] = d.id;
      for (const ext of ['1001', '1002'])
        await services.users.create(CLI_PRINCIPAL, d.id, { ext, extPassword: `pw-${ext}-${k}`, name: `N${ext}` });
    }
    const as = (domainId: string, domain: string, role: 'owner' | 'admin' | 'agent'): Principal => ({
      userId: undefined,
      email: `${role}@${domain}`,
      role,
      domainId,
      domain,
      via: 'token',
    });
    principals.ownerA = as(domains.a, 'a.example', 'owner');
    principals.agentA = as(domains.a, 'a.example', 'agent');
    principals.adminB = as(domains.b, 'b.example', 'admin');
  }, 120_000);
  afterAll(async () => {
    adapters?.close();
    await store?.close();
  });

  it.skipIf(!database)('a job without a result in time fails, and the next one goes out', async () => {
    const link = fakeLink(principals.ownerA);
    const id = await adapters.register(link, 'timeouts');
    adapters.start(id);
    await adapters.provisionPhones(principals.ownerA, id, undefined, [
      { mac: 'aa0000000001', lines: [{ line: 1, user: '1001' }] },
      { mac: 'aa0000000002', lines: [{ line: 1, user: '1002' }] },
    ]);
    await until(() => link.frames.length === 1);
    await until(() => link.frames.length === 2);
    const phones = await adapters.listPhones(principals.ownerA, id);
    expect(phones.find((p) => p.mac === 'aa0000000001')).toMatchObject({
      state: 'error',
      error: 'no result from the adapter in time',
    });
    const second = link.frames[1]!;
    expect(second).toMatchObject({ mt: 'ProvisioningPhone', mac: 'aa0000000002', username: '1002', cn: 'N1002' });
    if (second.mt !== 'ProvisioningPhone') return;
    expect(decryptSecret(link.token, second.seed, second.password)).toBe('pw-1002-a');
    await adapters.result(id, second.id, 'ok', undefined);
    await adapters.unregister(id, link);
  });

  it.skipIf(!database)('a code is refused once adapters.code_ttl_s has passed', async () => {
    await services.settings.set(CLI_PRINCIPAL, 'adapters.code_ttl_s', 600, domains.a);
    const link = fakeLink(principals.ownerA);
    const id = await adapters.register(link, 'expiry');
    adapters.start(id);
    await adapters.provisionPhone({
      domainId: domains.a,
      mac: 'aa:00:00:00:00:03',
      adapterId: id,
      lines: [{ line: 1, user: '1001' }],
    });
    await until(() => link.frames.length === 1);
    const job = link.frames[0]!;
    if (job.mt !== 'ProvisioningPhone') throw new Error('expected ProvisioningPhone');
    now += 601_000;
    await expect(
      adapters.identify({ mac: job.mac, nonce: 'n', code: job.code, product: 'p', version: '1' }),
    ).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
    now -= 2_000;
    const who = await adapters.identify({ mac: job.mac, nonce: 'n', code: job.code, product: 'p', version: '1' });
    expect(decryptSecret(job.code, who.managerPassword!.seed, who.managerPassword!.password)).toBe(who.password);
    await adapters.unregister(id, link);
  });

  it.skipIf(!database)("an agent cannot see or use adapters; another domain's admin finds none", async () => {
    const link = fakeLink(principals.ownerA);
    const id = await adapters.register(link, 'rights');
    await expect(adapters.list(principals.agentA)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      adapters.provisionPhones(principals.agentA, id, undefined, [
        { mac: 'aa0000000010', lines: [{ line: 1, user: '1001' }] },
      ]),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await adapters.list(principals.adminB)).map((a) => a.id)).not.toContain(id);
    await expect(adapters.listPhones(principals.adminB, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      adapters.provisionPhones(principals.adminB, id, undefined, [
        { mac: 'aa0000000010', lines: [{ line: 1, user: '1001' }] },
      ]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // An agent's or other domain's token cannot register an adapter either.
    await expect(adapters.register(fakeLink(principals.agentA), 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await adapters.unregister(id, link);
  });

  it.skipIf(!database)(
    'bad MACs, repeated lines and unknown extensions are refused naming the field, nothing queued',
    async () => {
      const link = fakeLink(principals.ownerA);
      const id = await adapters.register(link, 'validation');
      const bad = [
        [{ mac: 'not-a-mac', lines: [{ line: 1, user: '1001' }] }, 'phones.0.mac'],
        [
          {
            mac: 'aa0000000020',
            lines: [
              { line: 1, user: '1001' },
              { line: 1, user: '1002' },
            ],
          },
          'phones.0.lines.1.line',
        ],
        [{ mac: 'aa0000000020', lines: [{ line: 1, user: '9999' }] }, 'phones.0.lines.0.user'],
        [{ mac: 'aa0000000020', lines: [] }, 'phones.0.lines'],
      ] as const;
      for (const [phone, field] of bad) {
        const err = await adapters.provisionPhones(principals.ownerA, id, undefined, [phone as never]).then(
          () => undefined,
          (e: unknown) => e as { code: string; fields: Record<string, string> },
        );
        expect(err?.code, field).toBe('VALIDATION');
        expect(Object.keys(err?.fields ?? {})).toEqual([field]);
      }
      // A good phone before a bad one is not queued either.
      await expect(
        adapters.provisionPhones(principals.ownerA, id, undefined, [
          { mac: 'aa0000000021', lines: [{ line: 1, user: '1001' }] },
          { mac: 'aa0000000021', lines: [{ line: 1, user: '1002' }] },
        ]),
      ).rejects.toMatchObject({ code: 'VALIDATION' });
      expect(await adapters.listPhones(principals.ownerA, id)).toEqual([]);
      await adapters.unregister(id, link);
    },
  );

  it.skipIf(!database)('every provisioning and result lands in the audit log, without secrets', async () => {
    const link = fakeLink(principals.ownerA);
    const id = await adapters.register(link, 'audited');
    adapters.start(id);
    await adapters.provisionPhones(principals.ownerA, id, undefined, [
      { mac: 'aa0000000030', lines: [{ line: 1, user: '1001' }] },
    ]);
    await until(() => link.frames.length === 1);
    await adapters.result(
      id,
      link.frames[0]!.mt === 'ProvisioningPhone' ? link.frames[0].id : '',
      'error',
      'unplugged',
    );
    const log = await services.audit.list(CLI_PRINCIPAL, { resource: 'adapter-phone', domainId: domains.a });
    const mine = log.docs.filter((e) => e.detail?.mac === 'aa0000000030');
    expect(mine.map((e) => e.action).sort()).toEqual(['provision', 'provisioning-result']);
    expect(mine.find((e) => e.action === 'provisioning-result')?.detail).toMatchObject({
      result: 'error',
      error: 'unplugged',
    });
    expect(JSON.stringify(log.docs)).not.toContain('pw-1001');
    await adapters.unregister(id, link);
  });

  it.skipIf(!database)(
    "the configuration carries STUN/TURN, the settings, and the chosen transport's port",
    async () => {
      const link = fakeLink(principals.ownerA);
      const id = await adapters.register(link, 'config');
      const [phone] = await adapters.provisionPhones(principals.ownerA, id, undefined, [
        {
          mac: 'aa0000000040',
          lines: [
            { line: 2, user: '1002' },
            { line: 1, user: '1001' },
          ],
        },
      ]);
      await services.settings.set(CLI_PRINCIPAL, 'adapters.sip_transport', 'tcp', domains.a);
      await services.settings.set(CLI_PRINCIPAL, 'adapters.tz', 'Europe/Berlin', domains.a);
      const c = await adapters.configOf(phone!.id);
      expect(c?.media).toMatchObject({ stunServer: 'stun.example.net:3478', turnServer: 'turn.example.net:3478' });
      expect(c?.media.turnUser).toMatch(/^\d+:1001@a\.example$/);
      expect(c?.media.turnPassword).not.toBe('');
      expect(c?.ntp.tz).toBe('Europe/Berlin');
      expect(c?.sip).toMatchObject({ server: 'pbx.example.net', port: 5070, transport: 'tcp' });
      expect(c?.sip.lines.map((l) => [l.line, l.user, l.password])).toEqual([
        [1, '1001', 'pw-1001-a'],
        [2, '1002', 'pw-1002-a'],
      ]);
      await services.settings.set(CLI_PRINCIPAL, 'adapters.sip_transport', null, domains.a);
      await adapters.unregister(id, link);
    },
  );

  it.skipIf(!database)(
    'provisioning a MAC again replaces its lines and queues it again; another domain gets CONFLICT',
    async () => {
      const link = fakeLink(principals.ownerA);
      const id = await adapters.register(link, 'again');
      await adapters.provisionPhones(principals.ownerA, id, undefined, [
        { mac: 'aa0000000050', lines: [{ line: 1, user: '1001' }] },
      ]);
      const [again] = await adapters.provisionPhones(principals.ownerA, id, undefined, [
        { mac: 'AA-00-00-00-00-50', lines: [{ line: 1, user: '1002' }] },
      ]);
      expect(again).toMatchObject({ mac: 'aa0000000050', state: 'queued', lines: [{ line: 1, user: '1002' }] });
      expect((await adapters.listPhones(principals.ownerA, id)).filter((p) => p.mac === 'aa0000000050')).toHaveLength(
        1,
      );
      const linkB = fakeLink(principals.adminB);
      const idB = await adapters.register(linkB, 'again');
      expect(idB).not.toBe(id);
      const err = await adapters
        .provisionPhones(principals.adminB, idB, undefined, [
          { mac: 'aa0000000050', lines: [{ line: 1, user: '1001' }] },
        ])
        .catch((e: unknown) => e as Error & { code: string });
      expect(err).toMatchObject({ code: 'CONFLICT' });
      expect((err as Error).message).not.toContain('a.example');
      await adapters.unregister(id, link);
      await adapters.unregister(idB, linkB);
    },
  );

  it.skipIf(!database)(
    'removing a phone revokes its password; deleting an adapter takes its phones, owner only',
    async () => {
      const link = fakeLink(principals.ownerA);
      const id = await adapters.register(link, 'removal');
      adapters.start(id);
      await adapters.provisionPhones(principals.ownerA, id, undefined, [
        { mac: 'aa0000000060', lines: [{ line: 1, user: '1001' }] },
        { mac: 'aa0000000061', lines: [{ line: 1, user: '1002' }] },
      ]);
      await until(() => link.frames.length === 1);
      const job = link.frames[0]!;
      if (job.mt !== 'ProvisioningPhone') throw new Error('expected ProvisioningPhone');
      await adapters.identify({ mac: job.mac, nonce: 'n', code: job.code, product: 'p', version: '1' });
      // Removing the phone in flight lets the next one go out.
      await adapters.removePhone(principals.ownerA, id, 'aa:00:00:00:00:60');
      await until(() => link.frames.length === 2);
      expect(link.frames[1]).toMatchObject({ mac: 'aa0000000061' });
      await expect(
        adapters.identify({ mac: 'aa0000000060', nonce: 'n', auth: 'ab', product: 'p', version: '1' }),
      ).rejects.toMatchObject({ code: 'IDENTIFY_FAILED' });
      await expect(adapters.remove(principals.adminB, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await adapters.remove(principals.ownerA, id);
      expect((await adapters.list(principals.ownerA)).map((a) => a.id)).not.toContain(id);
      expect(await adapters.findPhone(domains.a, 'aa0000000061')).toBeUndefined();
    },
  );
});
