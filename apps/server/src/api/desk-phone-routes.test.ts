import { createHash, randomBytes } from 'node:crypto';
import { SipResponse, type SipRequest } from '@handset/sip';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../config/secret-box.js';
import { DirectoryError } from '../directory/directory-error.js';
import { DirectoryService } from '../directory/directory-service.js';
import { createDirectoryServices, type DirectoryServices } from '../directory/directory-services.js';
import type { Principal } from '../directory/principal.js';
import { directoryAdapter } from '../provisioning/directory-adapter.js';
import { readAccount, readDeskFile } from '../provisioning/desk/desk-file-reader.js';
import { defineDeskSettings } from '../provisioning/desk/desk-settings.js';
import { createDeskPhones, type DeskPhones } from '../provisioning/desk/desk-wiring.js';
import type { DeskVendor } from '../provisioning/provisioning-tables.js';
import type { Binding } from '../registrar/binding.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { registerDeskPhoneRoutes } from './desk-phone-routes.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

const DOMAIN = 'acme.example';
const OTHER = 'other.example';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** A phone of each vendor: its MAC, the file it asks for, and its User-Agent. */
const PHONES: Array<{ vendor: DeskVendor; mac: string; file: string; ua: string }> = [
  {
    vendor: 'yealink',
    mac: '80:5E:C0:11:22:01',
    file: '805ec0112201.cfg',
    ua: 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:11:22:01',
  },
  {
    vendor: 'polycom',
    mac: '0004f2112202',
    file: '0004f2112202-phone.cfg',
    ua: 'FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427',
  },
  {
    vendor: 'grandstream',
    mac: '00-0B-82-11-22-03',
    file: 'cfg000b82112203.xml',
    ua: 'Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82112203',
  },
  {
    vendor: 'snom',
    mac: '0004.1311.2204',
    file: '000413112204.xml',
    ua: 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 010.1.33.33 000413112204)',
  },
  { vendor: 'fanvil', mac: '0C383E112205', file: '0c383e112205.cfg', ua: 'Fanvil X4U 2.12.1 0c383e112205' },
  {
    vendor: 'cisco',
    mac: '88755a112206',
    file: 'spa88755a112206.xml',
    ua: 'Cisco/SPA504G-7.6.2b (88755A112206)(CCQ1234)',
  },
];

describe.each(testBackends(pgdb))('desk phones on %s', (_name, database) => {
  let store: Store;
  let services: DirectoryServices;
  let desk: DeskPhones;
  let app: FastifyInstance;
  let acmeId: string;
  const principals = new Map<string, Principal>();
  const sent: SipRequest[] = [];
  const bindings: Binding[] = [];
  const userIds = new Map<string, string>();

  const get = (url: string, headers: Record<string, string> = {}, remoteAddress = '192.0.2.10') =>
    app.inject({ method: 'GET', url, headers, remoteAddress });
  const api = (who: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({
      method,
      url: `/api/v1/devices${url}`,
      headers: { 'x-test-principal': who },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  beforeAll(async () => {
    if (!database) return;
    store = await openStore({ database });
    const secrets = new SecretBox(randomBytes(32));
    const directory = new DirectoryService(store, secrets);
    await directory.verifySecretKey();
    services = createDirectoryServices(store, secrets);
    defineDeskSettings(services.settingsRegistry);
    for (const [domain, exts] of [
      [DOMAIN, ['1001', '1002', '1003']],
      [OTHER, ['2001']],
    ] as const) {
      const d = await directory.addDomain(domain);
      if (domain === DOMAIN) acmeId = d.id;
      for (const ext of exts) {
        const u = await directory.addUser({ domain, ext, password: `pw-${ext}`, name: `User ${ext}` });
        userIds.set(`${ext}@${domain}`, u.id);
      }
      principals.set(`admin@${domain}`, {
        userId: undefined,
        email: undefined,
        role: 'owner',
        domainId: d.id,
        domain,
        via: 'session',
      });
    }
    principals.set('agent', {
      userId: userIds.get(`1001@${DOMAIN}`),
      email: undefined,
      role: 'agent',
      domainId: acmeId,
      domain: DOMAIN,
      via: 'session',
    });
    desk = createDeskPhones({
      store,
      directory: directoryAdapter(directory),
      settingsService: services.settings,
      audit: services.audit,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://pbx.test',
      serverKey: randomBytes(32),
    });
    await desk.start();
    services.events.on('change', (c) => void desk.service.directoryChanged(c));
    desk.notifier.attach({
      lookup: (aor) => bindings.filter((b) => b.aor === aor),
      sendRequest: (req, _target, h) => {
        sent.push(req);
        setImmediate(() => h.onResponse(new SipResponse(200, 'OK')));
      },
      sentBy: () => '127.0.0.1:5060',
    });
    desk.files.attachSip({ host: '127.0.0.1', ports: { udp: 5070, tcp: 5070 } });
    app = Fastify();
    await registerDeskPhoneRoutes(app, {
      files: desk.files,
      service: desk.service,
      authenticate: async (req) => {
        const p = principals.get(String(req.headers['x-test-principal']));
        if (!p) throw new DirectoryError('UNAUTHENTICATED', 'sign in first');
        (req as typeof req & { principal?: Principal }).principal = p;
        return Promise.resolve();
      },
      logger: pino({ level: 'silent' }),
      rateLimit: { max: 10_000, timeWindowMs: 60_000 },
    });
    await app.ready();
    // One phone per vendor, line 1 = 1001 (line 2 = 1002 on the Yealink), created over the API.
    for (const p of PHONES) {
      const res = await api(`admin@${DOMAIN}`, 'POST', '', {
        mac: p.mac,
        vendor: p.vendor,
        lines:
          p.vendor === 'yealink'
            ? [
                { line: 1, ext: '1001' },
                { line: 2, ext: '1002' },
              ]
            : [{ line: 1, ext: '1001' }],
        keys: [
          { index: 1, type: 'blf', value: '1002', label: 'Bob' },
          { index: 2, type: 'speed_dial', value: '1003' },
          { index: 3, type: 'park', value: '*70' },
          { index: 4, type: 'voicemail', value: '*97' },
        ],
      });
      expect(res.statusCode, res.body).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await desk?.close();
    await store?.close();
  });

  it.skipIf(!database)(
    'keeps one canonical MAC whatever the notation, and refuses a second phone with it',
    async () => {
      const list = await api(`admin@${DOMAIN}`, 'GET', '?pageSize=50');
      const macs = list
        .json<{ docs: Array<{ mac: string }> }>()
        .docs.map((d) => d.mac)
        .sort();
      expect(macs).toEqual([
        '000413112204',
        '0004f2112202',
        '000b82112203',
        '0c383e112205',
        '805ec0112201',
        '88755a112206',
      ]);
      const dup = await api(`admin@${DOMAIN}`, 'POST', '', { mac: '80-5e-c0-11-22-01', vendor: 'yealink' });
      expect(dup.statusCode).toBe(409);
      const other = await api(`admin@${OTHER}`, 'POST', '', { mac: '805EC0112201', vendor: 'yealink' });
      expect(other.statusCode, 'a MAC is one phone in the whole server').toBe(409);
      for (const bad of ['80:5e:c0:11:22', 'zz5ec0112201', '00:00:00:00:00:00', '80:5e-c0:11:22:01']) {
        const r = await api(`admin@${DOMAIN}`, 'POST', '', { mac: bad, vendor: 'yealink' });
        expect(r.statusCode, bad).toBe(422);
      }
    },
  );

  it.skipIf(!database)(
    "searches by MAC in any notation, vendor, model, user; paged; only in the admin's domain",
    async () => {
      const find = async (q: string, who = `admin@${DOMAIN}`) =>
        (await api(who, 'GET', q)).json<{ docs: Array<{ mac: string }>; totalDocs: number }>();
      expect((await find('?mac=80:5E:C0:11:22:01')).docs.map((d) => d.mac)).toEqual(['805ec0112201']);
      expect((await find('?vendor=snom')).docs.map((d) => d.mac)).toEqual(['000413112204']);
      expect((await find('?user=1002')).docs.map((d) => d.mac)).toEqual(['805ec0112201']);
      const page = await find('?pageSize=2&page=2');
      expect(page.docs).toHaveLength(2);
      expect(page.totalDocs).toBe(6);
      expect((await find('', `admin@${OTHER}`)).totalDocs).toBe(0);
      expect((await api(`admin@${OTHER}`, 'GET', '/805ec0112201')).statusCode).toBe(404);
      expect((await api('agent', 'GET', '')).statusCode).toBe(403);
      expect((await api('agent', 'POST', '', { mac: '805ec0999999', vendor: 'yealink' })).statusCode).toBe(404);
    },
  );

  it.skipIf(!database).each(PHONES)(
    'serves the $vendor phone its file in the vendor syntax, with its own account',
    async (p) => {
      for (const prefix of ['/prov/', '/app/provision/']) {
        const res = await get(prefix + p.file, { 'user-agent': p.ua });
        expect(res.statusCode, res.body).toBe(200);
        const account = readAccount(p.vendor, res.body);
        expect(account).toEqual({
          domain: DOMAIN,
          user: '1001',
          authUser: '1001',
          password: 'pw-1001',
          proxyHost: '127.0.0.1',
          port: 5070,
          transport: 'udp',
        });
        expect(res.body, "no other user's secret").not.toContain('pw-1003');
        expect(res.headers.etag).toMatch(/^"/);
        const again = await get(prefix + p.file, { 'user-agent': p.ua, 'if-none-match': String(res.headers.etag) });
        expect(again.statusCode).toBe(304);
      }
      // The phonebook, in the vendor's format, through the secret URL the file names.
      const file = (await get('/prov/' + p.file, { 'user-agent': p.ua })).body;
      const url =
        /http:\/\/pbx\.test(\/prov\/[A-Za-z0-9_-]+\/[\w.-]*phonebook[\w.-]*|\/prov\/[A-Za-z0-9_-]+\/[\w-]+-directory\.xml|\/prov\/[A-Za-z0-9_-]+\/)/.exec(
          file,
        );
      expect(url, file).not.toBeNull();
      const path = url![1]!.endsWith('/') ? `${url![1]}phonebook.xml` : url![1]!;
      const book = await get(path, { 'user-agent': p.ua });
      expect(book.statusCode, book.body).toBe(200);
      // Every vendor's phonebook is XML (Yealink and Fanvil too).
      const entries = [...readDeskFile('xml', book.body).values()];
      expect(entries).toContain('User 1002');
      expect(entries).toContain('1003');
    },
  );

  it.skipIf(!database)('reads the keys and the second line into the Yealink file', async () => {
    const m = readDeskFile('yealink', (await get('/prov/805ec0112201.cfg')).body);
    expect(m.get('account.2.user_name')).toBe('1002');
    expect(m.get('account.2.password')).toBe('pw-1002');
    expect(m.get('linekey.1.type')).toBe('16');
    expect(m.get('linekey.1.value')).toBe('1002');
    expect(m.get('linekey.3.type')).toBe('10');
  });

  it.skipIf(!database)(
    'updates firmware, model, address and last contact from the fetch, in memory at once',
    async () => {
      await get(
        '/prov/805ec0112201.cfg',
        { 'user-agent': 'Yealink SIP-T46S 66.86.0.20 80:5e:c0:11:22:01' },
        '198.51.100.7',
      );
      const d = (await api(`admin@${DOMAIN}`, 'GET', '/805ec0112201')).json<{
        firmware: string;
        model: string;
        ip: string;
        lastContactAt: string;
      }>();
      expect(d).toMatchObject({ firmware: '66.86.0.20', model: 'T46S', ip: '198.51.100.7' });
      expect(Date.parse(d.lastContactAt)).toBeGreaterThan(Date.now() - 60_000);
      await desk.catalog.flush();
      const row = await desk.repository.find({ mac: '805ec0112201' });
      expect(row).toMatchObject({ firmware: '66.86.0.20', lastContactIp: '198.51.100.7' });
    },
  );

  it.skipIf(!database)(
    'answers an unknown MAC, a bad name, a traversal and a wrong notation with the same 404',
    async () => {
      const ref = await get('/prov/805ec0999999.cfg');
      expect(ref.statusCode).toBe(404);
      // Normalized by the URL parser before routing: it never reaches the provisioning routes.
      expect((await get('/prov/../../etc/passwd')).statusCode).toBe(404);
      expect((await get('/prov/%2e%2e/%2e%2e/etc/passwd')).statusCode).toBe(404);
      for (const url of [
        '/prov/nothing.txt',
        '/prov/805ec0112201.cfg/../x',
        '/app/provision/..%2f805ec0112201.cfg',
        '/prov/80:5e:c0:11:22:01.cfg',
        '/prov/cfg805ec0112201.xml', // a Grandstream name for a Yealink phone
        '/prov/' + 'a'.repeat(5000) + '.cfg',
        '/prov/AAAAAAAAAAAAAAAAAAAAAAAA/805ec0112201.cfg', // a secret that is nobody's
      ]) {
        const res = await get(url);
        expect(res.statusCode, url).toBe(404);
        expect(res.body, url).toBe(ref.body);
        expect(res.headers['content-type'], url).toBe(ref.headers['content-type']);
      }
    },
  );

  it.skipIf(!database)(
    'refuses a User-Agent naming another MAC or vendor, and survives a huge or binary one',
    async () => {
      expect(
        (await get('/prov/805ec0112201.cfg', { 'user-agent': 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:11:22:99' }))
          .statusCode,
      ).toBe(404);
      expect((await get('/prov/805ec0112201.cfg', { 'user-agent': 'Fanvil X4U 2.12.1' })).statusCode).toBe(404);
      expect((await get('/prov/805ec0112201.cfg', { 'user-agent': 'x'.repeat(8000) })).statusCode).toBe(200);
      expect(
        (await get('/prov/805ec0112201.cfg', { 'user-agent': 'Yealink ((((((((((((((((((( \u00ff\u00fe' })).statusCode,
      ).toBe(200);
    },
  );

  it.skipIf(!database)(
    'asks for digest credentials once the domain has them, accepts the right ones, and the device secret instead',
    async () => {
      const admin = principals.get(`admin@${DOMAIN}`)!;
      await services.settings.set(admin, 'provisioning.http_username', 'phones', acmeId);
      await services.settings.set(admin, 'provisioning.http_password', 'prov-s3cret', acmeId);
      desk.service.settingsChanged(acmeId);
      const url = '/prov/805ec0112201.cfg';
      const challenge = await get(url);
      expect(challenge.statusCode).toBe(401);
      const www = String(challenge.headers['www-authenticate']);
      expect(www).toMatch(/^Digest realm="Handset provisioning", qop="auth", algorithm=MD5, nonce="[^"]+"/);
      expect(challenge.body).not.toContain('pw-1001');
      const nonce = /nonce="([^"]+)"/.exec(www)![1]!;
      const auth = (user: string, pass: string, uri = url) => {
        const ha1 = md5(`${user}:Handset provisioning:${pass}`);
        const response = md5(`${ha1}:${nonce}:00000001:abc:auth:${md5(`GET:${uri}`)}`);
        return `Digest username="${user}", realm="Handset provisioning", nonce="${nonce}", uri="${uri}", qop=auth, nc=00000001, cnonce="abc", response="${response}", algorithm=MD5`;
      };
      expect((await get(url, { authorization: auth('phones', 'prov-s3cret') })).statusCode).toBe(200);
      expect((await get(url, { authorization: auth('phones', 'wrong') })).statusCode).toBe(401);
      expect((await get(url, { authorization: auth('phones', 'prov-s3cret', '/prov/other.cfg') })).statusCode).toBe(
        401,
      );
      expect((await get(url, { authorization: 'Digest garbage,,,==' })).statusCode).toBe(401);
      expect((await get(url, { authorization: 'Digest ' + 'a="b",'.repeat(2000) })).statusCode).toBe(401);
      // Basic over plain HTTP does not count.
      const basic = 'Basic ' + Buffer.from('phones:prov-s3cret').toString('base64');
      expect((await get(url, { authorization: basic })).statusCode).toBe(401);
      // The other domain's phone with this domain's credentials: its own (none) apply... and a MAC
      // of this domain is not served with another domain's credentials.
      await services.settings.set(
        principals.get(`admin@${OTHER}`)!,
        'provisioning.http_username',
        'other',
        principals.get(`admin@${OTHER}`)!.domainId,
      );
      await services.settings.set(
        principals.get(`admin@${OTHER}`)!,
        'provisioning.http_password',
        'other-pw',
        principals.get(`admin@${OTHER}`)!.domainId,
      );
      expect((await get(url, { authorization: auth('other', 'other-pw') })).statusCode).toBe(401);
      // The device secret in the path needs no credentials.
      const secret = (await api(`admin@${DOMAIN}`, 'GET', '/805ec0112201')).json<{ secret: string }>().secret;
      expect((await get(`/prov/${secret}/805ec0112201.cfg`)).statusCode).toBe(200);
      // Another phone's secret does not open this phone's file.
      const snomSecret = (await api(`admin@${DOMAIN}`, 'GET', '/000413112204')).json<{ secret: string }>().secret;
      expect((await get(`/prov/${snomSecret}/805ec0112201.cfg`)).statusCode).toBe(404);
      // An unknown MAC is still the plain 404, not a challenge.
      expect((await get('/prov/805ec0999999.cfg')).statusCode).toBe(404);
      await services.settings.set(admin, 'provisioning.http_username', null, acmeId);
      await services.settings.set(admin, 'provisioning.http_password', null, acmeId);
      desk.service.settingsChanged(acmeId);
    },
  );

  it.skipIf(!database)('serves only the allowed networks when a CIDR allowlist is set', async () => {
    const admin = principals.get(`admin@${DOMAIN}`)!;
    await services.settings.set(admin, 'provisioning.allowed_cidrs', '10.0.0.0/8, 2001:db8::/32', acmeId);
    desk.service.settingsChanged(acmeId);
    expect((await get('/prov/805ec0112201.cfg', {}, '10.1.2.3')).statusCode).toBe(200);
    expect((await get('/prov/805ec0112201.cfg', {}, '192.0.2.10')).statusCode).toBe(404);
    expect((await get('/prov/805ec0112201.cfg', {}, '2001:db8::5')).statusCode).toBe(200);
    await services.settings.set(admin, 'provisioning.allowed_cidrs', null, acmeId);
    desk.service.settingsChanged(acmeId);
    expect((await get('/prov/805ec0112201.cfg', {}, '192.0.2.10')).statusCode).toBe(200);
  });

  it.skipIf(!database)(
    "sends check-sync to the phone's registration when its user's SIP password changes, and serves the new one",
    async () => {
      const before = await get('/prov/805ec0112201.cfg', {}, '192.0.2.50');
      const binding = (aor: string, ua: string, address: string): Binding => ({
        aor,
        domain: DOMAIN,
        key: `sip:${aor}`,
        contactUri: `sip:${aor.split('@')[0]}@${address}:5062`,
        path: [],
        callId: 'c',
        cseq: 1,
        expiresAt: Date.now() + 60_000,
        transport: 'udp',
        sourceAddress: address,
        sourcePort: 5062,
        userAgent: ua,
        receivedAt: Date.now(),
      });
      bindings.push(binding(`1001@${DOMAIN}`, 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:11:22:01', '192.0.2.50'));
      // A softphone of the same user elsewhere gets nothing.
      bindings.push(binding(`1001@${DOMAIN}`, 'SomeSoftphone/1.0', '203.0.113.9'));
      sent.length = 0;
      await services.users.update(principals.get(`admin@${DOMAIN}`)!, userIds.get(`1001@${DOMAIN}`)!, {
        extPassword: 'new-pw-1001',
      });
      await expect.poll(() => sent.length).toBeGreaterThan(0);
      const yealink = sent.filter((r) => r.uri.includes('192.0.2.50'));
      expect(yealink).toHaveLength(1);
      expect(yealink[0]!.method).toBe('NOTIFY');
      expect(yealink[0]!.getHeader('event')).toBe('check-sync;reboot=false');
      expect(sent.some((r) => r.uri.includes('203.0.113.9'))).toBe(false);
      const after = await get('/prov/805ec0112201.cfg', {}, '192.0.2.50');
      expect(readAccount('yealink', after.body).password).toBe('new-pw-1001');
      expect(after.headers.etag).not.toBe(before.headers.etag);
      // A change that does not touch the password sends nothing.
      sent.length = 0;
      await services.users.update(principals.get(`admin@${DOMAIN}`)!, userIds.get(`1003@${DOMAIN}`)!, {
        phone: '+4930123',
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).toHaveLength(0);
      // By API: resync and reboot (Cisco's own event).
      const r = await api(`admin@${DOMAIN}`, 'POST', '/805ec0112201/resync', { reboot: true });
      expect(r.json()).toMatchObject({ notified: 1 });
      expect(sent.at(-1)!.getHeader('event')).toBe('check-sync;reboot=true');
    },
  );

  it.skipIf(!database)('assigns lines and keys over the API and check-syncs the phone', async () => {
    sent.length = 0;
    const res = await api(`admin@${DOMAIN}`, 'PUT', '/805ec0112201/lines', [{ line: 1, ext: '1003' }]);
    expect(res.statusCode, res.body).toBe(200);
    await expect.poll(() => sent.length).toBeGreaterThan(0);
    expect(readAccount('yealink', (await get('/prov/805ec0112201.cfg')).body).user).toBe('1003');
    const cross = await api(`admin@${DOMAIN}`, 'PUT', '/805ec0112201/lines', [{ line: 1, ext: `2001@${OTHER}` }]);
    expect(cross.statusCode).toBe(404);
    const keys = await api(`admin@${DOMAIN}`, 'PUT', '/805ec0112201/keys', [{ index: 5, type: 'blf', value: '1001' }]);
    expect(keys.statusCode, keys.body).toBe(200);
    expect(readDeskFile('yealink', (await get('/prov/805ec0112201.cfg')).body).get('linekey.5.value')).toBe('1001');
    const bad = await api(`admin@${DOMAIN}`, 'PUT', '/805ec0112201/keys', [
      { index: 1, type: 'blf', value: 'x\ny = 1' },
    ]);
    expect(bad.statusCode).toBe(422);
  });

  it.skipIf(!database)('records an unknown phone as pending only when the domain asks for it', async () => {
    const ua = { 'user-agent': 'Yealink SIP-T54W 96.86.0.1 80:5e:c0:aa:bb:cc', host: `${DOMAIN}:8080` };
    expect((await get('/prov/805ec0aabbcc.cfg', ua)).statusCode).toBe(404);
    expect((await api(`admin@${DOMAIN}`, 'GET', '?status=pending')).json<{ totalDocs: number }>().totalDocs).toBe(0);
    await services.settings.set(principals.get(`admin@${DOMAIN}`)!, 'provisioning.auto_insert', true, acmeId);
    desk.service.settingsChanged(acmeId);
    expect((await get('/prov/805ec0aabbcc.cfg', ua)).statusCode).toBe(404);
    const pending = (await api(`admin@${DOMAIN}`, 'GET', '?status=pending')).json<{
      docs: Array<{ mac: string; vendor: string; model: string }>;
    }>().docs;
    expect(pending).toEqual([expect.objectContaining({ mac: '805ec0aabbcc', vendor: 'yealink', model: 'T54W' })]);
    // Still nothing to fetch until an admin assigns a line.
    expect((await get('/prov/805ec0aabbcc.cfg', ua)).statusCode).toBe(404);
    await api(`admin@${DOMAIN}`, 'PUT', '/805ec0aabbcc/lines', [{ line: 1, ext: '1002' }]);
    expect((await get('/prov/805ec0aabbcc.cfg', ua)).statusCode).toBe(200);
  });
});
