import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import { PROVISION_MESSAGES as M } from '../provisioning/provisioning-service.js';
import {
  provisioningWorld,
  sessionTalkAccount,
  type ProvisioningWorld,
} from '../provisioning/provisioning-test-world.js';
import { registerProvisioningRoutes } from './provisioning-routes.js';

const DOMAIN = 'acme.example';
const OTHER = 'other.example';

let w: ProvisioningWorld;
let app: FastifyInstance;
let acmeId: string;
let otherId: string;
const principals = new Map<string, Principal>();

function as(who: string): Record<string, string> {
  return { 'x-test-principal': who };
}

function provisionUrl(q: Record<string, string | undefined>, path = '/app/sessiontalk/provision'): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
  return `${path}?${params.toString()}`;
}

/** A code for ext@domain issued through the REST API as `who`. */
async function code(
  who: string,
  ext: string,
  domain = DOMAIN,
): Promise<{ qrText: string; token: string; windowsLink: string | null; png: string; svg: string; expiresAt: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/provisioning/codes',
    headers: as(who),
    payload: { ext, domain },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json<{ qrText: string; windowsLink: string | null; png: string; svg: string; expiresAt: string }>();
  return { ...body, token: body.qrText.split(':')[2]! };
}

async function provision(q: Record<string, string | undefined>, opts: { ip?: string; path?: string } = {}) {
  return app.inject({ method: 'GET', url: provisionUrl(q, opts.path), remoteAddress: opts.ip ?? '192.0.2.1' });
}

beforeAll(async () => {
  w = await provisioningWorld({ kind: 'pglite', dir: undefined });
  acmeId = await w.addDomain(DOMAIN, ['1001', '1002', '1003']);
  otherId = await w.addDomain(OTHER, ['2001']);
  const user = async (domain: string, ext: string) =>
    (await w.directory.listUsers({ domain })).find((u) => u.ext === ext)!.id;
  const mk = (
    userId: string | undefined,
    role: Principal['role'],
    domainId: string | undefined,
    domain: string | undefined,
  ): Principal => ({
    userId,
    email: undefined,
    role,
    domainId,
    domain,
    via: 'session',
  });
  principals.set('agent1001', mk(await user(DOMAIN, '1001'), 'agent', acmeId, DOMAIN));
  principals.set('agent1002', mk(await user(DOMAIN, '1002'), 'agent', acmeId, DOMAIN));
  principals.set('admin', mk(await user(DOMAIN, '1003'), 'admin', acmeId, DOMAIN));
  principals.set('otheradmin', mk(await user(OTHER, '2001'), 'owner', otherId, OTHER));
  principals.set('super', mk(undefined, 'superadmin', undefined, undefined));
  app = Fastify();
  await registerProvisioningRoutes(app, {
    provisioning: w.service,
    codes: w.codes,
    devices: w.deviceService,
    settings: w.settings,
    directory: {
      findDomain: async (d) => {
        const x = await w.directory.getDomain(d);
        return x ? { id: x.id, domain: x.domain } : undefined;
      },
      findExtension: () => Promise.resolve(undefined),
      listExtensions: () => Promise.resolve([]),
      getSipPassword: () => Promise.resolve(undefined),
      getSipAccount: () => Promise.resolve(undefined),
    },
    // The API's authenticator stands behind this seam; here a header names the test principal.
    authenticate: async (req) => {
      const p = principals.get(String(req.headers['x-test-principal']));
      if (!p) throw new DirectoryError('UNAUTHENTICATED', 'sign in first');
      (req as typeof req & { principal?: Principal }).principal = p;
      return Promise.resolve();
    },
    publicUrl: 'https://pbx.test',
    logger: pino({ level: 'silent' }),
    rateLimit: { max: 1000, timeWindowMs: 60_000 },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await w?.close();
});

describe('activation codes over REST', () => {
  it('gives a QR code (PNG that decodes to the QR text, SVG), its expiry and the Windows link', async () => {
    const c = await code('admin', '1001');
    expect(c.qrText).toMatch(/^scsc:1001@acme\.example:[A-Za-z0-9_-]+$/);
    expect(new Date(c.expiresAt).getTime()).toBe(w.now.ms + 172_800_000);
    const png = PNG.sync.read(Buffer.from(c.png.replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(c.qrText);
    expect(c.svg).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s);
    expect(c.windowsLink).toBe(
      `ms-appinstaller:?source=https://pbx.test/app/sessiontalk/appinstaller/acme.example/sessiontalk.appinstaller&activationUri=scsc:?username=1001@acme.example%26password=${c.token}`,
    );
  });

  it('puts the provider id last in the QR text and beside the username in the Windows link', async () => {
    w.settings.set('sessiontalk.provider_id', 'AcmeCloud', acmeId);
    try {
      const c = await code('admin', '1002');
      expect(c.qrText).toBe(`scsc:1002@acme.example:${c.token}:AcmeCloud`);
      expect(c.windowsLink).toContain(`username=1002@acme.example:AcmeCloud%26password=${c.token}`);
    } finally {
      w.settings.unset('sessiontalk.provider_id', acmeId);
    }
  });

  it('leaves the Windows link out when windows_softphone is off', async () => {
    w.settings.set('sessiontalk.windows_softphone', false, acmeId);
    try {
      expect((await code('admin', '1001')).windowsLink).toBeNull();
    } finally {
      w.settings.unset('sessiontalk.windows_softphone', acmeId);
    }
  });

  describe('rights (sessiontalk_view / sessiontalk_view_all)', () => {
    const create = (who: string, ext: string, domain = DOMAIN) =>
      app.inject({ method: 'POST', url: '/api/v1/provisioning/codes', headers: as(who), payload: { ext, domain } });
    const list = async (who: string, domainId?: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/api/v1/provisioning/extensions${domainId ? `?domainId=${domainId}` : ''}`,
          headers: as(who),
        })
      )
        .json<{ extensions: Array<{ ext: string; domain: string }> }>()
        .extensions.map((e) => `${e.ext}@${e.domain}`);

    it('an agent activates only the own extension, and sees only it', async () => {
      expect(await list('agent1002')).toEqual(['1002@acme.example']);
      expect((await create('agent1002', '1002')).statusCode).toBe(201);
      const refused = await create('agent1002', '1001');
      const missing = await create('agent1002', '9999');
      expect(refused.statusCode).toBe(404);
      // Not allowed and not existing look the same.
      expect(refused.json<{ error: { code: string } }>().error.code).toBe(
        missing.json<{ error: { code: string } }>().error.code,
      );
    });

    it('owners and admins activate any extension of their own domain only', async () => {
      expect(await list('admin')).toEqual(['1001@acme.example', '1002@acme.example', '1003@acme.example']);
      expect((await create('admin', '1002')).statusCode).toBe(201);
      expect((await create('admin', '2001', OTHER)).statusCode).toBe(404);
      expect((await create('otheradmin', '1001', DOMAIN)).statusCode).toBe(404);
      expect(await list('otheradmin', acmeId)).toEqual([]);
      expect((await create('otheradmin', '2001', OTHER)).statusCode).toBe(201);
    });

    it('a superadmin activates anywhere but must name the domain', async () => {
      expect((await create('super', '2001', OTHER)).statusCode).toBe(201);
      const noDomain = await app.inject({
        method: 'POST',
        url: '/api/v1/provisioning/codes',
        headers: as('super'),
        payload: { ext: '2001' },
      });
      expect(noDomain.statusCode).toBe(422);
      expect(await list('super', otherId)).toEqual(['2001@other.example']);
    });

    it('an agent also activates extensions added as lines to the own app', async () => {
      const c = await code('agent1001', '1001');
      expect(
        (
          await provision({
            username: '1001@acme.example',
            password: c.token,
            deviceId: 'rights-app',
            reprovision: 'false',
          })
        ).statusCode,
      ).toBe(200);
      const device = (await w.devices.list({ domainId: acmeId })).find((d) => d.appDeviceId === 'rights-app')!;
      expect((await create('agent1001', '1002')).statusCode).toBe(404);
      const added = await app.inject({
        method: 'POST',
        url: `/api/v1/provisioning/devices/${device.id}/lines`,
        headers: as('admin'),
        payload: { ext: '1002' },
      });
      expect(added.statusCode).toBe(201);
      expect(await list('agent1001')).toEqual(['1001@acme.example', '1002@acme.example']);
      expect((await create('agent1001', '1002')).statusCode).toBe(201);
      await w.devices.delete([device.id]);
    });

    it('refuses without a principal', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/provisioning/extensions' });
      expect(res.statusCode).toBe(401);
    });
  });
});

describe('the provisioning endpoint', () => {
  it('activates an app from the QR code and answers SessionTalk JSON', async () => {
    const c = await code('admin', '1001');
    const res = await provision({
      username: '1001@acme.example',
      password: c.token,
      reprovision: 'false',
      deviceId: 'flow-app',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      update: true,
      errmsg: M.activated,
      sipaccounts: [sessionTalkAccount('1001', 'acme')],
    });
    const again = await provision(
      { username: '1001@acme.example', password: c.token, reprovision: 'true', deviceId: 'flow-app' },
      { path: '/app/provision/' },
    );
    expect(again.json()).toMatchObject({ update: false });
  });

  it('answers the desk-phone path only when the request carries a deviceId', async () => {
    expect((await app.inject({ method: 'GET', url: '/app/provision/?mac=001565000000' })).statusCode).toBe(404);
  });

  it('answers 400 with SessionTalk JSON (update false) for missing or malformed parameters', async () => {
    const c = await code('admin', '1001');
    const good = { username: '1001@acme.example', password: c.token, deviceId: 'bad-input-app', reprovision: 'false' };
    const cases: Array<Record<string, string | undefined>> = [
      { ...good, username: undefined },
      { ...good, password: undefined },
      { ...good, deviceId: undefined },
      { ...good, username: '1001' },
      { ...good, username: '@acme.example' },
      { ...good, username: '1001@' },
      { ...good, username: '1001@bad_domain!' },
      { ...good, deviceId: 'has space' },
      { ...good, deviceId: 'x'.repeat(201) },
      { ...good, password: 'p'.repeat(5000) },
      { ...good, username: `${'9'.repeat(400)}@acme.example` },
      { ...good, reprovision: 'maybe' },
      {},
    ];
    for (const q of cases) {
      const res = await provision(q);
      expect(res.statusCode, JSON.stringify(q)).toBe(400);
      expect(res.json<{ update: boolean; sipaccounts: unknown[] }>()).toMatchObject({ update: false, sipaccounts: [] });
    }
    const repeated = await app.inject({ method: 'GET', url: `${provisionUrl(good)}&deviceId=second` });
    expect(repeated.statusCode).toBe(400);
    const huge = await app.inject({ method: 'GET', url: provisionUrl({ ...good, deviceId: 'y'.repeat(70_000) }) });
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);
    expect((await w.devices.list({ domainId: acmeId })).some((d) => d.appDeviceId === 'bad-input-app')).toBe(false);
  });

  it('refuses tampered, truncated, forged and foreign-domain codes alike (403), changing nothing', async () => {
    const c = await code('admin', '1001');
    const theirs = await code('otheradmin', '2001', OTHER);
    const flipped = c.token.slice(0, 30) + (c.token[30] === 'A' ? 'B' : 'A') + c.token.slice(31);
    const forged = w.codec.issue({
      domainId: acmeId,
      ext: '9999',
      nowS: Math.floor(w.now.ms / 1000),
      lifetimeS: 60,
      periodS: 3600,
    });
    const before = (await w.devices.list({})).length;
    const attempts: Array<[string, string]> = [
      ['1001@acme.example', flipped],
      ['1001@acme.example', c.token.slice(0, -4)],
      ['1001@acme.example', c.token + 'AAAA'],
      ['2001@acme.example', theirs.token], // another domain's code for this domain
      ['1001@other.example', c.token], // this domain's code for another domain
      ['1002@acme.example', c.token], // username and code disagree
      ['9999@acme.example', forged.token.replace(/^./, (x) => (x === 'A' ? 'B' : 'A'))],
      ['1001@nowhere.example', c.token], // unknown domain
    ];
    const bodies = new Set<string>();
    for (const [username, password] of attempts) {
      const res = await provision({ username, password, deviceId: 'attacker-app', reprovision: 'false' });
      expect(res.statusCode, username).toBe(403);
      bodies.add(res.body);
    }
    // Nothing tells an unknown extension or domain from a wrong code.
    expect([...bodies]).toEqual([JSON.stringify({ update: true, errmsg: M.invalidCode, sipaccounts: [] })]);
    expect((await w.devices.list({})).length).toBe(before);
  });

  it('refuses a code replayed by another app after it expired, and logs out unknown devices', async () => {
    const c = await code('admin', '1002');
    expect(
      (
        await provision({
          username: '1002@acme.example',
          password: c.token,
          deviceId: 'replay-a',
          reprovision: 'false',
        })
      ).json<{ errmsg: string }>().errmsg,
    ).toBe(M.activated);
    w.now.ms += 172_800_000 + 1000;
    const replay = await provision({
      username: '1002@acme.example',
      password: c.token,
      deviceId: 'replay-b',
      reprovision: 'false',
    });
    expect(replay.json()).toEqual({ update: true, errmsg: M.expiredCode, sipaccounts: [] });
    const unknown = await provision({
      username: '1002@acme.example',
      password: c.token,
      deviceId: 'never-seen',
      reprovision: 'true',
    });
    expect(unknown.json()).toEqual({ update: true, errmsg: M.invalidDevice, sipaccounts: [] });
    // The code stays locked to the app that used it.
    expect(
      (
        await provision({ username: '1002@acme.example', password: c.token, deviceId: 'replay-a', reprovision: 'true' })
      ).json<{ sipaccounts: unknown[] }>().sipaccounts,
    ).toHaveLength(1);
  });

  /** The public routes alone (every domain unknown), with the given rate limit. */
  async function floodApp(rateLimit: { max: number; timeWindowMs: number }) {
    const flood = Fastify();
    await registerProvisioningRoutes(flood, {
      provisioning: w.service,
      codes: w.codes,
      devices: w.deviceService,
      settings: w.settings,
      directory: {
        findDomain: () => Promise.resolve(undefined),
        findExtension: () => Promise.resolve(undefined),
        listExtensions: () => Promise.resolve([]),
        getSipPassword: () => Promise.resolve(undefined),
      },
      authenticate: () => Promise.reject(new DirectoryError('UNAUTHENTICATED', 'no')),
      publicUrl: 'https://pbx.test',
      logger: pino({ level: 'silent' }),
      rateLimit,
    });
    return flood;
  }
  const floodUrl = provisionUrl({
    username: '1001@acme.example',
    password: 'AAAA',
    deviceId: 'flood',
    reprovision: 'true',
  });

  it('rate-limits a flood per source address with update false, serving other sources', async () => {
    const flood = await floodApp({ max: 5, timeWindowMs: 60_000 });
    try {
      const q = floodUrl;
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++)
        statuses.push((await flood.inject({ method: 'GET', url: q, remoteAddress: '198.51.100.7' })).statusCode);
      expect(statuses.slice(0, 5).every((s) => s !== 429)).toBe(true);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const limited = await flood.inject({ method: 'GET', url: q, remoteAddress: '198.51.100.7' });
      expect(limited.json()).toMatchObject({ update: false, sipaccounts: [] });
      expect((await flood.inject({ method: 'GET', url: q, remoteAddress: '198.51.100.8' })).statusCode).not.toBe(429);
    } finally {
      await flood.close();
    }
  });

  it('answers every request of one source when the limit is 0 (off)', async () => {
    const flood = await floodApp({ max: 0, timeWindowMs: 60_000 });
    try {
      const statuses = new Set<number>();
      for (let i = 0; i < 200; i++)
        statuses.add((await flood.inject({ method: 'GET', url: floodUrl, remoteAddress: '198.51.100.9' })).statusCode);
      // An unknown domain on a re-provision: the logout answer, never a 429.
      expect([...statuses]).toEqual([200]);
      const last = await flood.inject({ method: 'GET', url: floodUrl, remoteAddress: '198.51.100.9' });
      expect(last.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await flood.close();
    }
  });
});

describe('devices over REST', () => {
  // Earlier tests already activated apps for these extensions.
  beforeAll(() => w.settings.set('sessiontalk.max_activations', 0, acmeId));
  afterAll(() => w.settings.unset('sessiontalk.max_activations', acmeId));
  async function activated(ext: string, appId: string): Promise<{ id: string; token: string }> {
    const c = await code('admin', ext);
    await provision({ username: `${ext}@acme.example`, password: c.token, deviceId: appId, reprovision: 'false' });
    return {
      id: (await w.devices.list({ domainId: acmeId })).find((d) => d.appDeviceId === appId)!.id,
      token: c.token,
    };
  }
  const reprovision = async (ext: string, token: string, appId: string) =>
    (await provision({ username: `${ext}@acme.example`, password: token, deviceId: appId, reprovision: 'true' })).json<{
      update: boolean;
      errmsg: string;
      sipaccounts: Array<{ sipusername: string }>;
    }>();

  it('lists devices with their template and lines; agents see only their own apps', async () => {
    const d = await activated('1003', '8F14E45F-CEEA-4E7A-9B1C-2D3E4F5A6B7C');
    const res = await app.inject({ method: 'GET', url: `/api/v1/provisioning/devices/${d.id}`, headers: as('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      template: 'sessiontalk/ios',
      ext: '1003',
      enabled: true,
      lines: [{ ext: '1003', position: 1, transport: 'udp' }],
    });
    expect(res.body).not.toContain('codeHash');
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/provisioning/devices/${d.id}`, headers: as('agent1002') }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/provisioning/devices/${d.id}`, headers: as('otheradmin') }))
        .statusCode,
    ).toBe(404);
    const mine = (
      await app.inject({ method: 'GET', url: '/api/v1/provisioning/devices', headers: as('agent1002') })
    ).json<{ devices: Array<{ ext: string }> }>();
    expect(mine.devices.every((x) => x.ext === '1002')).toBe(true);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `/api/v1/provisioning/devices?domainId=${acmeId}`,
          headers: as('otheradmin'),
        })
      ).json(),
    ).toEqual({ devices: [] });
  });

  it('disable holds settings back, a new line arrives at the next update, clearing json_md5 recreates, delete logs the app out', async () => {
    const d = await activated('1001', 'managed-app');
    const patch = (body: unknown, who = 'admin') =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/provisioning/devices/${d.id}`,
        headers: as(who),
        payload: body as object,
      });
    expect((await patch({ enabled: false }, 'agent1001')).statusCode).toBe(403);
    expect((await patch({ enabled: false })).json()).toMatchObject({ enabled: false });
    const line = await app.inject({
      method: 'POST',
      url: `/api/v1/provisioning/devices/${d.id}/lines`,
      headers: as('admin'),
      payload: { ext: '1002', transport: 'tcp' },
    });
    expect(line.statusCode).toBe(201);
    expect((await reprovision('1001', d.token, 'managed-app')).errmsg).toBe(M.disabled);
    await patch({ enabled: true });
    const updated = await reprovision('1001', d.token, 'managed-app');
    expect(updated.update).toBe(true);
    expect(updated.sipaccounts.map((a) => a.sipusername)).toEqual(['1001', '1002']);
    expect((await reprovision('1001', d.token, 'managed-app')).update).toBe(false);
    expect((await patch({ jsonMd5: null })).statusCode).toBe(200);
    expect((await reprovision('1001', d.token, 'managed-app')).update).toBe(true);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/provisioning/devices/${d.id}`, headers: as('admin') }))
        .statusCode,
    ).toBe(204);
    expect(await reprovision('1001', d.token, 'managed-app')).toEqual({
      update: true,
      errmsg: M.invalidDevice,
      sipaccounts: [],
    });
    const audit = (await w.auditOf(acmeId)).filter((e) => e.resource === 'device').map((e) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining(['activate', 'disable', 'add_line', 'enable', 'update', 'delete', 'deactivate']),
    );
  });

  it('answers bad bodies and ids with a clear 4xx', async () => {
    const d = await activated('1002', 'body-app');
    const url = `/api/v1/provisioning/devices/${d.id}`;
    const cases: Array<[string, InjectOptions, number]> = [
      [
        'not JSON',
        {
          method: 'PATCH',
          url,
          headers: { ...as('admin'), 'content-type': 'application/json' },
          payload: '{"enabled":',
        },
        400,
      ],
      ['unknown field', { method: 'PATCH', url, headers: as('admin'), payload: { enabled: true, hack: 1 } }, 422],
      ['wrong type', { method: 'PATCH', url, headers: as('admin'), payload: { enabled: 'yes' } }, 422],
      ['nothing to change', { method: 'PATCH', url, headers: as('admin'), payload: {} }, 422],
      ['bad id', { method: 'GET', url: '/api/v1/provisioning/devices/not-a-uuid', headers: as('admin') }, 422],
      [
        'unknown id',
        {
          method: 'DELETE',
          url: '/api/v1/provisioning/devices/00000000-0000-4000-8000-000000000000',
          headers: as('admin'),
        },
        404,
      ],
      [
        'line from another domain',
        { method: 'POST', url: `${url}/lines`, headers: as('admin'), payload: { ext: '2001' } },
        404,
      ],
      [
        'bad transport',
        { method: 'POST', url: `${url}/lines`, headers: as('admin'), payload: { ext: '1001', transport: 'sctp' } },
        422,
      ],
      [
        'oversized',
        {
          method: 'POST',
          url: '/api/v1/provisioning/codes',
          headers: as('admin'),
          payload: { ext: 'x'.repeat(20_000) },
        },
        413,
      ],
      [
        'code for an array',
        { method: 'POST', url: '/api/v1/provisioning/codes', headers: as('admin'), payload: [1, 2] },
        422,
      ],
    ];
    for (const [name, req, status] of cases) {
      const res = await app.inject(req);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(status);
      expect(res.json<{ error: { message: string } }>().error.message.length, name).toBeGreaterThan(0);
    }
  });
});

describe('the .appinstaller document', () => {
  it('is served when a bundle URL is set, naming itself and the bundle', async () => {
    const url = '/app/sessiontalk/appinstaller/acme.example/sessiontalk.appinstaller';
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
    w.settings.set('sessiontalk.windows_bundle_url', 'https://downloads.example/sessioncloud.msixbundle', acmeId);
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`Uri="https://pbx.test${url}"`);
    expect(res.body).toContain('Uri="https://downloads.example/sessioncloud.msixbundle"');
    expect(res.body).toContain('Name="SessionTalkLtd.SessionCloudSoftphone"');
    expect((await app.inject({ method: 'GET', url: url.replace('acme.example', 'nowhere.example') })).statusCode).toBe(
      404,
    );
  });
});
