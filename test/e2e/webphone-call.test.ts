import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { sleep, waitFor } from './support/sdk-wait.js';
import { WebphoneBrowser, type WebphonePage } from './support/webphone-browser.js';
import { seedWebphoneUsers, type SeedUser } from './support/webphone-seed.js';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DOMAIN = 'wp.example.test';
const users = {
  a: { domain: DOMAIN, ext: '2001', email: 'alice@wp.example.test', password: 'alice-web-secret-1', name: 'Alice' },
  b: { domain: DOMAIN, ext: '2002', email: 'bob@wp.example.test', password: 'bob-web-secret-22', name: 'Bob' },
  owner: {
    domain: DOMAIN,
    ext: '2000',
    email: 'owner@wp.example.test',
    password: 'owner-web-secret-0',
    name: 'Olga',
    role: 'owner',
  },
  other: {
    domain: 'other.example.test',
    ext: '2001',
    email: 'eve@other.example.test',
    password: 'eve-other-secret',
    name: 'Eve',
  },
} satisfies Record<string, SeedUser>;
describe('Handset web phone in headless Chromium', () => {
  let handset: HandsetProcess;
  let browser: WebphoneBrowser;
  let dataDir: string;
  let base: string;
  let a: WebphonePage;
  let b: WebphonePage;

  beforeAll(async () => {
    const seeded = await seedWebphoneUsers(Object.values(users));
    dataDir = seeded.dataDir;
    // SIP trace on: the last test reads the SDP Handset receives.
    handset = await startHandset({ ...seeded.env, HANDSET_SIP_TRACE: '1' });
    base = `http://127.0.0.1:${handset.httpPort}`;
    browser = await WebphoneBrowser.launch(`${base}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await handset?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the installable shell: manifest, icons, a service worker that opens the phone offline', async () => {
    const manifest = (await (await fetch(`${base}/manifest.webmanifest`)).json()) as { icons: Array<{ src: string }> };
    for (const icon of manifest.icons) expect((await fetch(`${base}/${icon.src}`)).status, icon.src).toBe(200);
    const sw = await fetch(`${base}/sw.js`);
    expect(sw.status).toBe(200);
    expect(await sw.text()).toContain('handset-shell-');
    const p = await browser.open();
    const state = await p.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const w = reg.active!;
      if (w.state !== 'activated') await new Promise((r) => w.addEventListener('statechange', r, { once: true }));
      return w.state;
    });
    expect(state).toBe('activated');
    // Offline, the cached shell still opens on the sign-in form.
    await p.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await p.page.context().setOffline(true);
    await p.page.reload();
    await p.page.getByLabel('Email').waitFor({ timeout: 10_000 });
    await p.page.context().setOffline(false);
    await p.page.context().close();
  });

  it('A signs in and calls B by number; B answers; audio flows both ways; both hang up into History', async () => {
    a = await browser.open();
    b = await browser.open();
    await a.page.screenshot({ path: join(shots, 'webphone-sign-in.png') });
    await a.signIn(users.a.email, users.a.password);
    await b.signIn(users.b.email, users.b.password);
    await a.page.screenshot({ path: join(shots, 'webphone-dialpad.png') });

    await a.page.getByLabel('Number').fill(users.b.ext);
    await a.page.getByRole('button', { name: 'Call', exact: true }).click();
    const answer = b.page.getByRole('button', { name: 'Answer' });
    await answer.waitFor({ timeout: 15_000 });
    await expect(b.page.getByRole('button', { name: 'Decline' }).isVisible()).resolves.toBe(true);
    await b.page.screenshot({ path: join(shots, 'webphone-incoming.png') });
    await answer.click();

    for (const p of [a, b])
      await p.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    const first = await Promise.all(
      [a, b].map((p) =>
        waitFor(
          'audio in',
          () => p.stats(),
          (s) => (s?.audio.packetsReceived ?? 0) > 0,
        ),
      ),
    );
    await sleep(1500);
    const later = await Promise.all([a.stats(), b.stats()]);
    expect(later[0]!.audio.packetsReceived - first[0]!.audio.packetsReceived, 'RTP into A').toBeGreaterThan(20);
    expect(later[1]!.audio.packetsReceived - first[1]!.audio.packetsReceived, 'RTP into B').toBeGreaterThan(20);
    for (const name of ['Mute', 'Hold', 'Transfer'])
      await expect(a.page.getByRole('button', { name }).isVisible()).resolves.toBe(true);
    await a.page.getByText(/Quality: /).waitFor({ timeout: 5000 });
    await a.page.screenshot({ path: join(shots, 'webphone-in-call.png') });

    await a.page.getByRole('button', { name: 'Hang up' }).click();
    for (const p of [a, b]) await p.page.getByLabel('Number').waitFor({ timeout: 10_000 });

    await a.page.getByRole('button', { name: 'History' }).click();
    await a.page
      .getByRole('button', { name: `Call back ${users.b.ext}` })
      .first()
      .waitFor({ timeout: 10_000 });
    await b.page.getByRole('button', { name: 'History' }).click();
    await b.page
      .getByRole('button', { name: `Call back ${users.a.ext}` })
      .first()
      .waitFor({ timeout: 10_000 });
    await a.page.screenshot({ path: join(shots, 'webphone-history.png') });
  });

  it('lists colleagues in Contacts and shows settings read-only without the edit flag', async () => {
    await a.page.getByRole('button', { name: 'Contacts' }).click();
    await a.page.getByRole('button', { name: 'Call Bob' }).waitFor({ timeout: 10_000 });
    // Another tenant's user with the same extension never appears.
    expect(await a.page.getByText('Eve').count()).toBe(0);
    await a.page.screenshot({ path: join(shots, 'webphone-contacts.png') });
    await a.page.getByRole('button', { name: 'Settings' }).click();
    await a.page.getByText('Set by your administrator').waitFor();
    expect(await a.page.locator('#display-name').getAttribute('readonly')).not.toBeNull();
    // Fake devices are listed for each role (the fake microphone has a label once granted).
    await a.page.getByLabel('Microphone').locator('option').nth(1).waitFor({ state: 'attached', timeout: 5000 });
    await a.page.getByLabel('Ringer').waitFor();
    await a.page.screenshot({ path: join(shots, 'webphone-settings.png') });
    const desktop = await browser.open({ width: 1280, height: 800 });
    await desktop.signIn(users.other.email, users.other.password);
    await desktop.page.screenshot({ path: join(shots, 'webphone-desktop.png') });
  });

  it('answers bad input to the web phone routes with clean 4xx', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
    expect((await get('/api/v1/webphone/config')).status).toBe(401);
    for (const auth of ['Bearer junk', `Bearer ${'x'.repeat(10_000)}`, 'Bearer hss_' + 'A'.repeat(40)]) {
      const r = await get('/api/v1/webphone/config', { authorization: auth });
      expect(r.status, auth.slice(0, 20)).toBe(401);
    }
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: users.other.email, password: users.other.password }),
    });
    const { token } = (await login.json()) as { token: string };
    const cfg = (await (await get('/api/v1/webphone/config', { authorization: `Bearer ${token}` })).json()) as {
      sip: { domain: string; password: string };
    };
    // Same extension in two tenants: each token gets only its own line.
    expect(cfg.sip).toMatchObject({ domain: 'other.example.test', password: users.other.password });
    const colleagues = await (await get('/api/v1/webphone/colleagues', { authorization: `Bearer ${token}` })).text();
    expect(colleagues).not.toContain('Alice');
    expect(
      (await get(`/api/v1/webphone/colleagues?keyword=${'%'.repeat(300)}`, { authorization: `Bearer ${token}` }))
        .status,
    ).toBe(422);
    const post = await fetch(`${base}/api/v1/webphone/config`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{',
    });
    expect(post.status).toBeGreaterThanOrEqual(400);
    expect(post.status).toBeLessThan(500);
    expect((await get('/api/v1/no-such-route')).status).toBe(404);
    expect((await get('/sip')).status).toBe(404);
    expect((await (await get('/healthz')).json()) as object).toMatchObject({ status: 'ok' });
    // The handset process is still healthy after all of it.
    expect(handset.child.exitCode).toBeNull();
  });

  it('applies the domain configuration at sign-in: brand, auto answer, codec priority and delete in the SDP', async () => {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: users.owner.email, password: users.owner.password }),
    });
    const { token } = (await login.json()) as { token: string };
    const put = (key: string, value: unknown) =>
      fetch(`${base}/api/v1/settings/${key}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
    expect((await put('webphone.codec_delete', ['opus'])).status).toBe(422);
    for (const [k, v] of [
      ['webphone.brand_name', 'Acme Phone'],
      ['webphone.auto_answer', true],
      ['webphone.codec_priority', ['PCMU']],
      ['webphone.codec_delete', ['PCMA', '/^G722$/']],
    ] as const)
      expect((await put(k, v)).status, k).toBe(200);

    const a2 = await browser.open();
    const b2 = await browser.open();
    await a2.signIn(users.a.email, users.a.password);
    await b2.signIn(users.b.email, users.b.password);
    expect(await a2.page.title()).toBe('Acme Phone');
    const before = handset.output().length;
    await a2.page.getByLabel('Number').fill(users.b.ext);
    await a2.page.getByRole('button', { name: 'Call', exact: true }).click();
    // Nobody touches B: it answers by itself.
    for (const p of [a2, b2])
      await p.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    const trace = handset.output().slice(before);
    const offer = /INVITE sip:2002@[^\n]*?(m=audio [^\\]+)/.exec(trace)?.[1];
    expect(offer, 'the INVITE from A in the SIP trace').toBeDefined();
    const pts = offer!.split(' ').slice(3);
    expect(pts[0], offer).toBe('0'); // PCMU first
    expect(pts).toContain('111'); // Opus kept
    expect(pts).not.toContain('8'); // PCMA deleted
    expect(pts).not.toContain('9'); // G722 deleted
    await a2.page.getByRole('button', { name: 'Hang up' }).click();
    await b2.page.getByLabel('Number').waitFor({ timeout: 10_000 });
  });
});
