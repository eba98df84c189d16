/**
 * The web phone's ways in and per-user tools, against the built Handset in headless Chromium:
 * SIP-account sign-in, self sign-up, the balance in the side menu, the Agent page (status kept by
 * the server, Away skipped by ring groups, Do not disturb declines), and the *#0*# SIP log switch.
 */
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { sleep, waitFor } from './support/sdk-wait.js';
import { WebphoneBrowser, type WebphonePage } from './support/webphone-browser.js';
import { seedWebphoneUsers, type SeedUser } from './support/webphone-seed.js';

const DOMAIN = 'signin.example.test';
const users = {
  owner: {
    domain: DOMAIN,
    ext: '3000',
    email: 'olga@signin.example.test',
    password: 'owner-pass-3000',
    name: 'Olga',
    role: 'owner',
  },
  alice: {
    domain: DOMAIN,
    ext: '3001',
    email: 'alice@signin.example.test',
    password: 'alice-pass-3001',
    name: 'Alice',
  },
  bob: { domain: DOMAIN, ext: '3002', email: 'bob@signin.example.test', password: 'bob-pass-3002', name: 'Bob' },
  dave: { domain: DOMAIN, ext: '3003', email: 'dave@signin.example.test', password: 'dave-pass-3003', name: 'Dave' },
} satisfies Record<string, SeedUser>;

describe('web phone sign-in, sign-up, balance, agent tools', () => {
  let handset: HandsetProcess;
  let browser: WebphoneBrowser;
  let dataDir: string;
  let base: string;
  let ownerToken: string;

  const api = async (method: string, path: string, body?: unknown, token = ownerToken) => {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as Record<string, unknown>;
  };
  const setting = (key: string, value: unknown) => api('PUT', `/settings/${key}`, { value });
  const userId = async (ext: string) =>
    ((await api('GET', `/users?keyword=${ext}`)) as { docs: Array<{ id: string; ext: string }> }).docs.find(
      (u) => u.ext === ext,
    )!.id;
  const registered = (p: WebphonePage) =>
    p.page
      .getByRole('status')
      .filter({ hasText: /^Registered$/ })
      .waitFor({ timeout: 20_000 });
  // Pages of a test are closed after it, passed or failed (a page left registered would ring later).
  const pages: WebphonePage[] = [];
  afterEach(async () => {
    for (const p of pages.splice(0))
      await p.page
        .context()
        .close()
        .catch(() => undefined);
  });
  const openMenu = (p: WebphonePage) => p.page.getByRole('button', { name: 'Menu', exact: true }).click();

  beforeAll(async () => {
    const seeded = await seedWebphoneUsers(Object.values(users));
    dataDir = seeded.dataDir;
    handset = await startHandset(seeded.env);
    base = `http://127.0.0.1:${handset.httpPort}`;
    // The link a tenant hands out names its domain (the page host 127.0.0.1 names none).
    browser = await WebphoneBrowser.launch(`${base}/?domain=${DOMAIN}`);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: users.owner.email, password: users.owner.password }),
    });
    ownerToken = ((await login.json()) as { token: string }).token;
  });
  afterAll(async () => {
    await browser?.close();
    await handset?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('offers "SIP account" only where webphone.sip_login is on; an agent signs in with it and registers', async () => {
    const off = await browser.open();
    await off.page.getByLabel('Email').waitFor();
    expect(await off.page.getByRole('button', { name: 'SIP account' }).count()).toBe(0);
    expect(await off.page.getByRole('button', { name: 'Create an account' }).count()).toBe(0);
    await off.page.context().close();

    await setting('webphone.sip_login', true);
    const p = await browser.open();
    await p.page.getByRole('button', { name: 'SIP account' }).click();
    // A wrong password is refused on the form, and the phone does not start.
    await p.page.getByLabel('SIP account (extension@domain)').fill(`${users.alice.ext}@${DOMAIN}`);
    await p.page.getByLabel('SIP password').fill('not-the-password');
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await p.page.getByRole('alert').filter({ hasText: 'wrong SIP account or password' }).waitFor({ timeout: 10_000 });
    // A bare extension takes the link's domain.
    await p.page.getByLabel('SIP account (extension@domain)').fill(users.alice.ext);
    await p.page.getByLabel('SIP password').fill(users.alice.password);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await registered(p);
    await openMenu(p);
    await p.page.getByText(`${users.alice.ext}@${DOMAIN}`).waitFor();
    await p.page.context().close();
    await setting('webphone.sip_login', null);
  });

  it('signs a new user up with the next extension of the range, and registers it', async () => {
    await setting('webphone.register', true);
    await setting('webphone.register_ext_range', '3100-3199');
    const p = await browser.open();
    await p.page.getByRole('button', { name: 'Create an account' }).click();
    await p.page.getByLabel('Name').fill('Nina New');
    await p.page.getByLabel('Email').fill('nina@signin.example.test');
    await p.page.getByLabel('Password').fill('nina-pass-3100');
    await p.page.getByRole('button', { name: 'Create account' }).click();
    await registered(p);
    await openMenu(p);
    await p.page.getByText(`3100@${DOMAIN}`).waitFor();
    const nina = (await api('GET', '/users?keyword=nina')) as { docs: Array<{ ext: string; role: string }> };
    expect(nina.docs).toEqual([expect.objectContaining({ ext: '3100', role: 'agent' })]);
    await p.page.context().close();

    // Off again: the form no longer offers it, and the API refuses.
    await setting('webphone.register', null);
    const q = await browser.open();
    await q.page.getByLabel('Email').waitFor();
    expect(await q.page.getByRole('button', { name: 'Create an account' }).count()).toBe(0);
    const refused = await fetch(`${base}/api/v1/webphone/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        domain: DOMAIN,
        name: 'Late',
        email: 'late@signin.example.test',
        password: 'late-pass-1',
      }),
    });
    expect(refused.status).toBe(403);
    await q.page.context().close();
  });

  it('shows the balance in the side menu only with Display Balance on and a balance provided', async () => {
    const alice = await userId(users.alice.ext);
    await setting('webphone.display_balance', true);
    const p = await browser.open();
    await p.signIn(users.alice.email, users.alice.password);
    await registered(p);
    await openMenu(p);
    await p.page.getByText(`${users.alice.ext}@${DOMAIN}`).waitFor();
    expect(await p.page.getByText(/^Balance:/).count(), 'no balance provided yet').toBe(0);

    await api('PUT', `/webphone/users/${alice}/balance`, { balance: 12.5, currency: 'USD' });
    await p.page.reload();
    await registered(p);
    await openMenu(p);
    await p.page.getByText('Balance: $12.50').waitFor({ timeout: 10_000 });

    await setting('webphone.display_balance', false);
    await p.page.reload();
    await registered(p);
    await openMenu(p);
    await p.page.getByText(`${users.alice.ext}@${DOMAIN}`).waitFor();
    expect(await p.page.getByText(/^Balance:/).count(), 'flag off').toBe(0);
    await p.page.context().close();
  });

  it('Agent page: Away survives a reload and is skipped by the ring group; DND declines; counters from CDRs', async () => {
    await setting('webphone.agent', true);
    const group = await api('POST', '/groups', {
      name: 'Support',
      ext: '600',
      strategy: 'simultaneous',
      ringTimeoutS: 20,
    });
    await api('PUT', `/groups/${group.id as string}/members`, {
      members: [await userId(users.alice.ext), await userId(users.dave.ext)],
    });
    const [alice, bob, dave] = [await browser.open(), await browser.open(), await browser.open()];
    pages.push(alice, bob, dave);
    await alice.signIn(users.alice.email, users.alice.password);
    await registered(alice);
    await bob.signIn(users.bob.email, users.bob.password);
    await registered(bob);
    await dave.signIn(users.dave.email, users.dave.password);
    await registered(dave);

    const agentTab = (p: WebphonePage) => p.page.getByRole('navigation').getByRole('button', { name: 'Agent' });
    const stateButton = (p: WebphonePage, name: string) => p.page.getByRole('button', { name, exact: true });
    await agentTab(alice).click();
    expect(await stateButton(alice, 'Available').getAttribute('aria-pressed')).toBe('true');
    await stateButton(alice, 'Away').click();
    await waitFor(
      'Away shown',
      () => stateButton(alice, 'Away').getAttribute('aria-pressed'),
      (v) => v === 'true',
    );
    await sleep(500);
    await alice.page.reload();
    await registered(alice);
    await agentTab(alice).click();
    await waitFor(
      'Away still pressed after a reload',
      () => stateButton(alice, 'Away').getAttribute('aria-pressed'),
      (v) => v === 'true',
    );

    const call = async (from: WebphonePage, to: string) => {
      await from.page.getByRole('navigation').getByRole('button', { name: 'Dialpad' }).click();
      await from.page.getByLabel('Number').fill(to);
      await from.page.getByRole('button', { name: 'Call', exact: true }).click();
    };
    const hangUpAll = async (...pages: WebphonePage[]) => {
      for (const p of pages) {
        const b = p.page.getByRole('button', { name: /^(Hang up|Decline)$/ });
        if (await b.count())
          await b
            .first()
            .click()
            .catch(() => undefined);
      }
      for (const p of pages) await p.page.getByRole('navigation').waitFor({ timeout: 15_000 });
    };

    // Bob calls the group: Dave rings, Alice (Away) does not.
    await call(bob, '600');
    await dave.page.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 15_000 });
    await sleep(1500);
    expect(await alice.page.getByRole('button', { name: 'Answer' }).count(), 'Away agent rung').toBe(0);
    await hangUpAll(bob, dave);

    // Available again: she rings for the group.
    await agentTab(alice).click();
    await stateButton(alice, 'Available').click();
    await waitFor(
      'available stored',
      () => stateButton(alice, 'Available').getAttribute('aria-pressed'),
      (v) => v === 'true',
    );
    await sleep(500);
    await call(bob, '600');
    await alice.page.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 15_000 });
    await alice.page.getByRole('button', { name: 'Answer' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    await sleep(1000);
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await hangUpAll(bob, dave, alice);

    // Do not disturb: a direct call is declined (486) and never shows the incoming screen.
    await agentTab(alice).click();
    await stateButton(alice, 'Do not disturb').click();
    await sleep(500);
    await call(bob, users.alice.ext);
    await bob.page
      .getByText(/Call failed|Call ended|Busy/i)
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(() => undefined);
    await waitFor(
      'Bob back on the dialpad',
      () => bob.page.getByRole('navigation').count(),
      (n) => n === 1,
    );
    expect(await alice.page.getByRole('button', { name: 'Answer' }).count()).toBe(0);

    // Available again; Bob calls her directly and she answers.
    await stateButton(alice, 'Available').click();
    await waitFor(
      'available',
      () => stateButton(alice, 'Available').getAttribute('aria-pressed'),
      (v) => v === 'true',
    );
    await sleep(500);
    await call(bob, users.alice.ext);
    await alice.page.getByRole('button', { name: 'Answer' }).click({ timeout: 15_000 });
    await alice.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    await sleep(1500);
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await hangUpAll(bob, alice);

    // Counters from CDRs (calls that name her: the direct ones; a group call's CDR names the group).
    const counts = await waitFor(
      "Alice's counters",
      async () => {
        await alice.page.getByRole('navigation').getByRole('button', { name: 'History' }).click();
        await agentTab(alice).click();
        await sleep(500);
        return (await alice.page.getByRole('definition').allTextContents()).slice(0, 5).map(Number);
      },
      (v) => v[0] === 2,
      20_000,
    );
    // Calls, answered, missed, outgoing, incoming.
    expect(counts).toEqual([2, 1, 1, 0, 2]);
  });

  it('*#0*# on the dialpad turns SIP logging on at once, during a call too, and off again', async () => {
    const [alice, bob] = [await browser.open(), await browser.open()];
    pages.push(alice, bob);
    await alice.signIn(users.alice.email, users.alice.password);
    await registered(alice);
    await bob.signIn(users.bob.email, users.bob.password);
    await registered(bob);
    await alice.page.getByLabel('Number').fill(users.bob.ext);
    await alice.page.getByRole('button', { name: 'Call', exact: true }).click();
    await bob.page.getByRole('button', { name: 'Answer' }).click({ timeout: 15_000 });
    await alice.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    expect(alice.logs()).not.toContain('sending message');

    // During the call: "Add call" opens the dialpad, where the code is typed.
    await alice.page.getByRole('button', { name: 'Add call' }).click();
    for (const k of ['*', '#', '0', '*', '#']) await alice.page.getByRole('button', { name: k, exact: true }).click();
    await waitFor(
      'log switch',
      async () => alice.logs(),
      (l) => l.includes('[handset] SIP logging on'),
    );
    // Back to the call: the hold re-INVITE is logged.
    await alice.page.getByRole('button', { name: new RegExp(`^← .*${users.bob.ext}`) }).click();
    await alice.page.getByRole('button', { name: 'Hold' }).click();
    await waitFor(
      'INVITE in the console',
      async () => alice.logs(),
      (l) => /sending message:[\s\S]*INVITE sip:/.test(l),
    );
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await alice.page.getByLabel('Number').waitFor({ timeout: 10_000 });

    // Off without a call: the page reloads, signs back in, and stays quiet.
    await alice.page.getByLabel('Number').fill('*#0*');
    await alice.page.getByLabel('Number').press('#');
    await alice.page.waitForEvent('load', { timeout: 10_000 });
    await registered(alice);
    const after = alice.logs().lastIndexOf('[handset] SIP logging off');
    expect(after).toBeGreaterThan(0);
    await sleep(1000);
    await alice.page.getByLabel('Number').fill(users.bob.ext);
    await alice.page.getByRole('button', { name: 'Call', exact: true }).click();
    await bob.page.getByRole('button', { name: 'Decline' }).click({ timeout: 15_000 });
    await alice.page
      .getByLabel('Number')
      .waitFor({ timeout: 10_000 })
      .catch(async (e: unknown) => {
        await alice.page.screenshot({ path: '/tmp/h3-alice.png' });
        throw new Error(`${String(e)}\n${alice.logs().slice(-3000)}`);
      });
    expect(alice.logs().slice(after)).not.toContain('sending message');
  });
});
