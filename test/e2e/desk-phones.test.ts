import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAccount, type ReadAccount } from '../../apps/server/src/provisioning/desk/desk-file-reader.js';
import type { DeskVendor } from '../../apps/server/src/provisioning/provisioning-tables.js';
import { createTestDatabase, type TestDatabase } from '../../apps/server/src/store/test-databases.js';
import { startBaresip, type BaresipAgent } from './support/baresip.js';
import { callAndHangUp } from './support/baresip-call.js';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { interopEnv } from './support/interop-env.js';

// Desk phones provisioned by MAC through the built server: for each vendor family a request as the
// phone makes it (its path, its User-Agent with MAC and firmware, HTTP digest credentials) returns a
// file that parses in the vendor's syntax; the SIP settings read back from it register baresip,
// which then calls and is called. Then hostile requests, and check-sync after a password change.
const DOMAIN = 'desk.example';
const OTHER = 'elsewhere.example';
const PROV_USER = 'phones';
const PROV_PASS = 'pr0v-' + randomBytes(6).toString('hex');
const PEER = { user: '1009', password: 'peer-pw-1009', toneHz: 1000 };

const PHONES: Array<{ vendor: DeskVendor; mac: string; path: string; ua: string; ext: string; toneHz: number }> = [
  {
    vendor: 'yealink',
    mac: '80:5E:C0:AA:00:01',
    path: '/prov/805ec0aa0001.cfg',
    ua: 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:00:01',
    ext: '1001',
    toneHz: 400,
  },
  {
    vendor: 'polycom',
    mac: '0004F2AA0002',
    path: '/app/provision/0004f2aa0002-phone.cfg',
    ua: 'FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427 Type/Application',
    ext: '1002',
    toneHz: 500,
  },
  {
    vendor: 'grandstream',
    mac: '00-0b-82-aa-00-03',
    path: '/prov/cfg000b82aa0003.xml',
    ua: 'Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aa0003',
    ext: '1003',
    toneHz: 600,
  },
  {
    vendor: 'snom',
    mac: '0004.13aa.0004',
    path: '/prov/000413aa0004.xml',
    ua: 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 010.1.33.33 000413AA0004)',
    ext: '1004',
    toneHz: 700,
  },
  {
    vendor: 'fanvil',
    mac: '0c383eaa0005',
    path: '/app/provision/0c383eaa0005.cfg',
    ua: 'Fanvil X4U 2.12.1 0c383eaa0005',
    ext: '1005',
    toneHz: 800,
  },
  {
    vendor: 'cisco',
    mac: '88:75:5a:aa:00:06',
    path: '/prov/spa88755aaa0006.xml',
    ua: 'Cisco/SPA504G-7.6.2b (88755AAA0006)(CCQ1234)',
    ext: '1006',
    toneHz: 900,
  },
];

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** GET as a phone does: the first request without credentials, the digest answer to the 401. */
async function fetchAsPhone(
  base: string,
  path: string,
  ua: string,
  creds: { user: string; pass: string } | undefined,
): Promise<Response> {
  const first = await fetch(base + path, { headers: { 'user-agent': ua } });
  if (first.status !== 401 || !creds) return first;
  await first.arrayBuffer();
  const www = first.headers.get('www-authenticate') ?? '';
  const realm = /realm="([^"]+)"/.exec(www)?.[1] ?? '';
  const nonce = /nonce="([^"]+)"/.exec(www)?.[1] ?? '';
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = md5(`${creds.user}:${realm}:${creds.pass}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`GET:${path}`)}`);
  const authorization = `Digest username="${creds.user}", realm="${realm}", nonce="${nonce}", uri="${path}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}"`;
  return fetch(base + path, { headers: { 'user-agent': ua, authorization } });
}

/** GET with the path exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('desk phones provisioned by MAC, registering and calling through Handset', () => {
  let h: HandsetProcess;
  let base: string;
  let peer: BaresipAgent;
  let db: TestDatabase | undefined;
  const phones = new Map<DeskVendor, BaresipAgent>();
  const accounts = new Map<DeskVendor, ReadAccount>();

  beforeAll(async () => {
    // PostgreSQL where there is one (a fresh database): it opens in a moment where the embedded
    // database needs tens of seconds on a loaded machine.
    db = await createTestDatabase().catch(() => undefined);
    h = await startHandset({
      ...interopEnv,
      HANDSET_PROVISION_RATE_LIMIT: '0',
      ...(db ? { DATABASE_URL: db.url } : {}),
    });
    base = `http://127.0.0.1:${h.httpPort}`;
    await h.cli('domains', 'add', DOMAIN);
    await h.cli('domains', 'add', OTHER);
    for (const p of PHONES)
      await h.cli(
        'users',
        'add',
        `${p.ext}@${DOMAIN}`,
        '--password',
        `sip-${p.ext}-${randomBytes(3).toString('hex')}`,
        '--name',
        `Desk ${p.vendor}`,
      );
    await h.cli('users', 'add', `${PEER.user}@${DOMAIN}`, '--password', PEER.password, '--name', 'Peer');
    await h.cli('users', 'add', `2001@${OTHER}`, '--password', 'other-2001');
    for (const p of PHONES) {
      const out = await h.cli('devices', 'add', p.mac, '--vendor', p.vendor, '--line', `1:${p.ext}@${DOMAIN}`);
      expect(out).toContain('added');
    }
    await h.cli('devices', 'add', 'ac:de:48:00:00:99', '--vendor', 'yealink', '--line', `1:2001@${OTHER}`);
    await h.cli('settings', 'set', 'provisioning.http_username', PROV_USER, '--domain', DOMAIN);
    await h.cli('settings', 'set', 'provisioning.http_password', PROV_PASS, '--domain', DOMAIN);
    await h.cli('settings', 'set', 'provisioning.http_username', 'other-phones', '--domain', OTHER);
    await h.cli('settings', 'set', 'provisioning.http_password', 'other-' + PROV_PASS, '--domain', OTHER);
    peer = await startBaresip({ ...PEER, domain: DOMAIN, proxyPort: h.sipPort, transport: 'udp' });
    await peer.waitForRegistered();
    // About twenty CLI runs, each a Node process: minutes on a loaded machine.
  }, 600_000);
  afterAll(async () => {
    await Promise.allSettled([peer?.stop(), ...[...phones.values()].map((p) => p.stop())]);
    await h?.stop();
    await db?.drop();
  });

  it.each(PHONES)('$vendor: the file fetched as the phone parses, and its account registers baresip', async (p) => {
    const res = await fetchAsPhone(base, p.path, p.ua, { user: PROV_USER, pass: PROV_PASS });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    const account = readAccount(p.vendor, body);
    expect(account).toMatchObject({
      domain: DOMAIN,
      user: p.ext,
      authUser: p.ext,
      proxyHost: '127.0.0.1',
      port: h.sipPort,
    });
    accounts.set(p.vendor, account);
    const agent = await startBaresip({
      user: account.user,
      domain: account.domain,
      password: account.password,
      proxyPort: account.port,
      transport: account.transport === 'tcp' ? 'tcp' : 'udp',
      toneHz: p.toneHz,
      sipTrace: p.vendor === 'yealink',
    });
    phones.set(p.vendor, agent);
    await agent.waitForRegistered();
    // The fetch is the phone's last contact, with the firmware its User-Agent named.
    const list = JSON.parse(await h.cli('devices', 'list', '--domain', DOMAIN, '--json')) as Array<{
      mac: string;
      firmware: string | null;
      lastContactAt: string | null;
    }>;
    const row = list.find((d) => d.mac === p.mac.toLowerCase().replace(/[:.-]/g, ''));
    expect(row?.lastContactAt, JSON.stringify(list)).not.toBeNull();
    expect(row?.firmware).toBeTruthy();
  });

  it.each(PHONES)('$vendor: the provisioned phone calls another user and is called', async (p) => {
    const phone = phones.get(p.vendor);
    expect(phone, 'the registration test must have run').toBeDefined();
    if (!phone) return;
    const out = await callAndHangUp(phone, peer, 1_000);
    expect(out.calleeCallId).toBe(out.callId);
    const back = await callAndHangUp(peer, phone, 1_000);
    expect(back.calleeCallId).toBe(back.callId);
  });

  it("refuses wrong credentials, another domain's MAC, traversal, odd notations and hostile User-Agents", async () => {
    const yealink = PHONES[0]!;
    const wrong = await fetchAsPhone(base, yealink.path, yealink.ua, { user: PROV_USER, pass: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('sip-');
    // The other domain's phone with this domain's credentials: refused, nothing of it leaks.
    const foreign = await fetchAsPhone(
      base,
      '/prov/acde48000099.cfg',
      'Yealink SIP-T46S 66.86.0.15 ac:de:48:00:00:99',
      {
        user: PROV_USER,
        pass: PROV_PASS,
      },
    );
    expect(foreign.status).toBe(401);
    expect(await foreign.text()).not.toContain('2001');
    const unknown = await fetch(`${base}/prov/805ec0ffff01.cfg`);
    const unknownBody = await unknown.text();
    expect(unknown.status).toBe(404);
    for (const path of [
      '/prov/..%2f..%2fetc%2fpasswd',
      '/prov/%2e%2e/%2e%2e/etc/passwd',
      '/prov/../../etc/passwd',
      '/app/provision/../../../etc/passwd',
      '/prov/80:5e:c0:aa:00:01.cfg',
      '/prov/805EC0AA0001.CFG',
      '/app/provision/805ec0aa0001.cfg/..',
      '/prov/nothing.txt',
    ]) {
      const r = await rawGet(h.httpPort, path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).toBe(unknownBody);
    }
    // Another phone's MAC in the User-Agent: refused even with the right credentials.
    const spoof = await fetchAsPhone(base, yealink.path, 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:00:02', {
      user: PROV_USER,
      pass: PROV_PASS,
    });
    expect(spoof.status).toBe(404);
    const huge = await fetchAsPhone(base, yealink.path, 'Yealink ' + 'A'.repeat(12_000), {
      user: PROV_USER,
      pass: PROV_PASS,
    });
    expect(huge.status).toBe(200);
    const tooBig = await fetch(base + yealink.path, { headers: { 'user-agent': 'B'.repeat(40_000) } }).catch(
      () => undefined,
    );
    expect(tooBig === undefined || tooBig.status === 431).toBe(true);
    // The server is still there.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('a SIP password change sends check-sync to the registered phone, and the next fetch carries the new password', async () => {
    const p = PHONES[0]!;
    const phone = phones.get('yealink');
    expect(phone).toBeDefined();
    if (!phone) return;
    const email = `admin-${randomBytes(3).toString('hex')}@${DOMAIN}`;
    await h.cli('superadmin', 'create', email, '--password', 'Sup3r-' + randomBytes(6).toString('hex'));
    const token = (await h.cli('tokens', 'create', email)).trim().split('\n').at(-1)!;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const users = (await (await fetch(`${base}/api/v1/users?pageSize=1000`, { headers: auth })).json()) as {
      docs: Array<{ id: string; ext: string; domain?: string }>;
    };
    const user = users.docs.find((u) => u.ext === p.ext && (u.domain === undefined || u.domain === DOMAIN));
    expect(user, JSON.stringify(users)).toBeDefined();
    const before = phone.output().split('check-sync').length;
    const patch = await fetch(`${base}/api/v1/users/${user!.id}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ extPassword: 'brand-new-pw-1001' }),
    });
    expect(patch.status, await patch.text()).toBe(200);
    await expect
      .poll(() => phone.output().split('check-sync').length, { timeout: 15_000, interval: 200 })
      .toBeGreaterThan(before);
    expect(phone.output()).toMatch(/NOTIFY sip:[^\n]*\n(?:[^\n]*\n)*?Event: check-sync;reboot=false/i);
    const res = await fetchAsPhone(base, p.path, p.ua, { user: PROV_USER, pass: PROV_PASS });
    expect(readAccount('yealink', await res.text()).password).toBe('brand-new-pw-1001');
    // And by CLI, through the running server.
    expect(await h.cli('devices', 'resync', p.mac)).toMatch(/check-sync sent to 1 registered contact/);
  });
});
