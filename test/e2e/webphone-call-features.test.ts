import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from './support/sdk-wait.js';
import type { WebphonePage } from './support/webphone-browser.js';
import {
  dtmfHeard,
  dtmfSent,
  heardEnergy,
  listenToRemoteAudio,
  pageMedia,
  recordDtmfSent,
  recordMedia,
  setTabHidden,
  useToneMicrophone,
  videoLit,
  type PageMedia,
} from './support/webphone-media.js';
import { TcpRelay } from './support/sdk-tcp-relay.js';
import { WebphoneFront } from './support/webphone-deploy.js';
import type { SeedUser } from './support/webphone-seed.js';
import { startWebphoneSuite, type WebphoneSuite } from './support/webphone-suite.js';

const DOMAIN = 'calls.example.test';
const user = (ext: string, name: string): SeedUser => ({
  domain: DOMAIN,
  ext,
  email: `${name.toLowerCase()}@${DOMAIN}`,
  password: `${name.toLowerCase()}-calls-secret`,
  name,
});
// Each test has its own users: a page left registered by an earlier test never forks a call.
const U = {
  owner: { ...user('3000', 'Owen'), role: 'owner' as const },
  dtmfA: user('3101', 'Ada'),
  dtmfB: user('3102', 'Ben'),
  holdA: user('3201', 'Hana'),
  holdB: user('3202', 'Hugo'),
  blindA: user('3301', 'Bea'),
  blindB: user('3302', 'Bram'),
  blindC: user('3303', 'Bo'),
  attA: user('3401', 'Ana'),
  attB: user('3402', 'Ari'),
  attC: user('3403', 'Axel'),
  waitA: user('3501', 'Wim'),
  waitB: user('3502', 'Wanda'),
  waitC: user('3503', 'Walt'),
  videoA: user('3601', 'Vera'),
  videoB: user('3602', 'Vic'),
  dropA: user('3701', 'Dora'),
  dropB: user('3702', 'Dirk'),
  hiddenA: user('3801', 'Nina'),
  hiddenB: user('3802', 'Ned'),
  updateA: user('3901', 'Uma'),
  updateB: user('3902', 'Udo'),
};

const button = (p: WebphonePage, name: string) => p.page.getByRole('button', { name, exact: true });
const LONG = { timeout: 20_000 };

describe('Web phone call features, driven through its UI in headless Chromium', () => {
  let suite: WebphoneSuite;
  let pages: WebphonePage[] = [];
  const names = new WeakMap<WebphonePage, string>();

  /** Opens a page, records its peer connections, signs `u` in. */
  async function phone(u: SeedUser): Promise<WebphonePage> {
    const p = await suite.browser.open();
    pages.push(p);
    names.set(p, u.name);
    await recordMedia(p.page);
    await p.signIn(u.email, u.password);
    await registered(p);
    return p;
  }

  // Exactly "Registered": a substring match would also take "Not registered".
  const registered = (p: WebphonePage) =>
    p.page
      .getByRole('status')
      .filter({ hasText: /^Registered$/ })
      .waitFor(LONG);
  const pressed = (p: WebphonePage, name: string) => button(p, name).getAttribute('aria-pressed');
  /** The call screen of `p` is about the call with `u`. */
  const talkingTo = (p: WebphonePage, u: SeedUser) =>
    waitFor(
      `the call screen with ${u.ext}`,
      () => p.page.locator('.call-screen .peer').textContent(),
      (t) => (t ?? '').includes(u.ext),
    );
  const pressedIs = (p: WebphonePage, name: string, on: boolean) =>
    waitFor(
      `${name} pressed ${on}`,
      () => pressed(p, name),
      (v) => v === String(on),
    );

  /** A dials `to` with the number field and the given button; B's page shows Answer. */
  async function dial(a: WebphonePage, to: SeedUser, how = 'Call'): Promise<void> {
    await a.page.getByLabel('Number').fill(to.ext);
    await button(a, how).click();
  }

  async function answer(b: WebphonePage): Promise<void> {
    await button(b, 'Answer').click(LONG);
  }

  /** Both show the call connected and audio arrives at both. */
  async function talking(x: WebphonePage, y: WebphonePage): Promise<void> {
    await Promise.all([connected(x), connected(y)]);
    await Promise.all([audioFlowsInto(x), audioFlowsInto(y)]);
  }

  /** `by` presses Hang up; both pages are back on the dialpad. */
  async function hangUp(by: WebphonePage, other: WebphonePage): Promise<void> {
    await button(by, 'Hang up').click();
    await Promise.all([idle(by), idle(other)]);
  }

  /** A calls `to` (on page B), B answers, both show Connected. */
  async function talk(a: WebphonePage, b: WebphonePage, to: SeedUser): Promise<void> {
    await dial(a, to);
    await answer(b);
    await Promise.all([connected(a), connected(b)]);
  }

  const shows = (p: WebphonePage, status: string) =>
    p.page.getByRole('status').filter({ hasText: status }).waitFor(LONG);
  const connected = (p: WebphonePage) => shows(p, 'Connected');
  const idle = (p: WebphonePage) => p.page.getByLabel('Number').waitFor(LONG);

  /** Inbound audio keeps arriving at `p` (more than 20 new packets, within the deadline). */
  async function audioFlowsInto(p: WebphonePage): Promise<PageMedia> {
    const what = names.get(p) ?? 'a page';
    const first = await waitFor(
      `audio into ${what}`,
      () => pageMedia(p.page),
      (m) => m.audioPacketsIn > 0,
      20_000,
    );
    return waitFor(
      `more audio into ${what}`,
      () => pageMedia(p.page),
      (m) => m.audioPacketsIn - first.audioPacketsIn > 20,
      20_000,
    );
  }

  /** `p`'s History page lists a call-back entry for each number. */
  async function history(p: WebphonePage, numbers: string[]): Promise<void> {
    await button(p, 'History').click();
    for (const n of numbers) await button(p, `Call back ${n}`).first().waitFor(LONG);
  }

  const notifications = (p: WebphonePage) =>
    p.page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body })),
    );

  beforeAll(async () => {
    suite = await startWebphoneSuite(Object.values(U));
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      pages.forEach((p, i) => console.error(`--- page ${i} ---\n${p.logs().slice(-10_000)}`));
    for (const p of pages)
      await p.page
        .context()
        .close()
        .catch(() => undefined);
    pages = [];
  });
  afterAll(async () => {
    await suite?.stop();
  });

  // One retry: three CI runs on record lost the last one or two of the seven tones at B while A's
  // DTMF sender had started every one of them (the check below tells the two apart). The cause on the
  // receiving side (Chromium's playout of RFC 4733 events on a loaded 2-core machine, or the tone
  // detector) is not found; it never reproduced when run alone. A broken DTMF path fails both tries.
  it(
    'DTMF pad during a call: the keys A presses reach B; the call timer runs; quality shows loss, jitter and RTT',
    { retry: 1 },
    async () => {
      const a = await phone(U.dtmfA);
      const b = await phone(U.dtmfB);
      await talk(a, b, U.dtmfB);
      await audioFlowsInto(b);
      await listenToRemoteAudio(b.page);
      await recordDtmfSent(a.page);

      await button(a, 'Keypad').click();
      expect(await button(a, 'Keypad').getAttribute('aria-pressed')).toBe('true');
      const pad = a.page.getByRole('group', { name: 'Keypad' });
      // Pressed at a human pace (a key every 400 ms; a tone lasts 100 ms + 70 ms gap): none may be
      // lost. Presses faster than the tones play were lost now and then on a loaded CI machine (the last
      // of seven missing once), and at 250 ms the last was missing once more, with the cause not found:
      // A's sent tones are now checked first, so a failure says whether the press or the media lost it.
      const keys = ['1', '5', '5', '9', '#', '*', '0'];
      for (const k of keys) {
        await pad.getByRole('button', { name: k, exact: true }).click();
        await a.page.waitForTimeout(400);
      }
      // Each press starts its tone at A (the browser's DTMF sender), then B hears it.
      const sent = await waitFor(
        'the tones to leave A',
        () => dtmfSent(a.page),
        (t) => t.length >= keys.length,
        10_000,
      );
      expect(sent.join('')).toBe(keys.join(''));
      const heard = await waitFor(
        `the tones at B (A sent ${sent.join('')})`,
        () => dtmfHeard(b.page),
        (h) => h.length >= keys.length,
        20_000,
      );
      expect(heard.join('')).toBe(keys.join(''));

      const timer = a.page.locator('.timer');
      const t0 = (await timer.textContent()) ?? '';
      expect(t0).toMatch(/^\d+:\d\d$/);
      await waitFor(
        'the timer to advance',
        () => timer.textContent(),
        (t) => t !== t0 && /^\d+:\d\d$/.test(t ?? ''),
        10_000,
      );
      const quality = await waitFor(
        'a measured quality line',
        () => a.page.locator('.quality').textContent(),
        (t) => /loss \d+\.\d %, jitter \d+ ms, RTT \d+ ms/.test(t ?? ''),
        20_000,
      );
      expect(quality).toMatch(/^Quality: (good|fair|poor)/);

      await hangUp(a, b);
    },
  );

  it('Hold stops media both ways and shows pressed; Resume restarts it; Mute silences A at B and shows pressed', async () => {
    const a = await phone(U.holdA);
    const b = await phone(U.holdB);
    await useToneMicrophone(a.page);
    await talk(a, b, U.holdB);
    await Promise.all([audioFlowsInto(a), audioFlowsInto(b)]);

    // Mute: A's microphone track is disabled, so the audio B hears from A carries no energy.
    await listenToRemoteAudio(b.page);
    const energy = async (ms: number) => {
      const e1 = await heardEnergy(b.page);
      await sleep(ms);
      return (await heardEnergy(b.page)) - e1;
    };
    const loud = await energy(2000);
    expect(await pressed(a, 'Mute')).toBe('false');
    await button(a, 'Mute').click();
    await pressedIs(a, 'Mute', true);
    expect((await pageMedia(a.page)).audioSendEnabled).toEqual([false]);
    await sleep(500); // what was in flight
    const quiet = await energy(2000);
    expect(loud).toBeGreaterThan(0);
    expect(quiet).toBeLessThan(loud / 10);
    await button(a, 'Mute').click();
    await pressedIs(a, 'Mute', false);
    await waitFor(
      'sound at B again',
      () => energy(1000),
      (e) => e > quiet * 5 && e > 0,
    );
    await button(a, 'Hold').click();
    await pressedIs(a, 'Hold', true);
    await shows(b, 'On hold');
    // Both sides renegotiated to inactive (RFC 3264 §8.4), then nothing arrives on either side.
    for (const p of [a, b])
      await waitFor(
        'inactive media',
        () => pageMedia(p.page),
        (m) => m.directions.every((d) => d.endsWith('/inactive')),
      );
    const held = await Promise.all([pageMedia(a.page), pageMedia(b.page)]);
    await sleep(1500); // a window in which no packets may arrive
    const later = await Promise.all([pageMedia(a.page), pageMedia(b.page)]);
    expect(later[0].audioPacketsIn - held[0].audioPacketsIn, 'packets into A on hold').toBeLessThan(5);
    expect(later[1].audioPacketsIn - held[1].audioPacketsIn, 'packets into B on hold').toBeLessThan(5);

    await button(a, 'Hold').click();
    await pressedIs(a, 'Hold', false);
    await talking(a, b);

    await hangUp(b, a);
  });

  it('blind transfer: B transfers A to C from the Transfer panel; A talks to C, B is idle; all in History', async () => {
    const a = await phone(U.blindA);
    const b = await phone(U.blindB);
    const c = await phone(U.blindC);
    await talk(a, b, U.blindB);

    await button(b, 'Transfer').click();
    await b.page.getByLabel('Transfer to').fill(U.blindC.ext);
    await button(b, 'Transfer now').click();
    await answer(c);
    await b.page.getByRole('status').filter({ hasText: 'Call transferred' }).waitFor(LONG);
    await Promise.all([connected(a), connected(c)]);
    await idle(b);
    await talkingTo(a, U.blindC);
    await Promise.all([audioFlowsInto(a), audioFlowsInto(c)]);
    expect((await pageMedia(b.page)).open).toBe(0);

    await hangUp(c, a);
    await history(a, [U.blindB.ext, U.blindC.ext]);
    await history(b, [U.blindA.ext]);
    await history(c, [U.blindA.ext]);
  });

  it('attended transfer: B holds A, adds a call to C, talks, completes the transfer; A and C talk, B is idle', async () => {
    const a = await phone(U.attA);
    const b = await phone(U.attB);
    const c = await phone(U.attC);
    await talk(a, b, U.attB);

    await button(b, 'Hold').click();
    await shows(a, 'On hold');
    await button(b, 'Add call').click();
    await talk(b, c, U.attC);
    await talkingTo(b, U.attC);
    await audioFlowsInto(c);
    await button(b, 'Transfer').click();
    await button(b, 'Complete transfer').click();

    await idle(b);
    await Promise.all([connected(a), connected(c)]);
    await talkingTo(a, U.attC);
    await talkingTo(c, U.attA);
    await Promise.all([audioFlowsInto(a), audioFlowsInto(c)]);
    await hangUp(a, c);
    await history(b, [U.attA.ext, U.attC.ext]);
    // A, the party on hold, got the REFER and placed the new call to C (RFC 5589 §7.1).
    await history(a, [U.attC.ext]);
    const toC = a.page.getByRole('listitem').filter({ hasText: U.attC.ext });
    await expect(toC.first().textContent()).resolves.toContain('Outgoing');
  });

  it('call waiting: C calls B during A-B; B answers (A goes on hold), swaps back, hangs up A, resumes C', async () => {
    const a = await phone(U.waitA);
    const b = await phone(U.waitB);
    const c = await phone(U.waitC);
    await talk(a, b, U.waitB);

    await dial(c, U.waitB);
    await shows(b, 'Incoming call');
    await expect(b.page.locator('.others').textContent()).resolves.toContain(U.waitA.ext);
    await answer(b);
    await shows(a, 'On hold');
    await connected(c);
    await talkingTo(b, U.waitC);
    await audioFlowsInto(c);

    await button(b, `Swap to ${U.waitA.name} (${U.waitA.ext})`).click();
    await talkingTo(b, U.waitA);
    await shows(c, 'On hold');
    await connected(a);
    await audioFlowsInto(a);

    await button(b, 'Hang up').click();
    await idle(a);
    // C is left, on hold: B resumes it.
    await talkingTo(b, U.waitC);
    expect(await pressed(b, 'Hold')).toBe('true');
    await button(b, 'Hold').click();
    await talking(b, c);
    await hangUp(c, b);
  });

  it('Video call: both pages show local and remote video, and the remote picture is not black', async () => {
    const a = await phone(U.videoA);
    const b = await phone(U.videoB);
    await dial(a, U.videoB, 'Video call');
    await shows(b, 'Incoming video call');
    await answer(b);
    await Promise.all([connected(a), connected(b)]);
    for (const [p, who] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      await waitFor(
        `video frames into ${who}`,
        () => pageMedia(p.page),
        (m) => m.videoFramesIn > 30,
        30_000,
      );
      // Chromium's fake camera paints a moving pattern on green: most sampled pixels are lit.
      await waitFor(
        `a lit remote picture at ${who}`,
        () => videoLit(p.page, '.call-screen video.remote'),
        (f) => f > 0.5,
        20_000,
      );
      await waitFor(
        `own camera at ${who}`,
        () => videoLit(p.page, '.call-screen video.local'),
        (f) => f > 0.5,
        20_000,
      );
    }
    await hangUp(a, b);
  });

  it('WebSocket dropped mid-call: the indicator comes back to Registered by itself, the call keeps media, hang-up works', async () => {
    const relay = await TcpRelay.start(suite.handset.httpPort);
    try {
      // A's domain points the web phone at the relay while A signs in, so A's socket can be cut.
      await suite.setSetting(U.owner, 'webphone.ws_url', `ws://127.0.0.1:${relay.port}/sip`);
      let a: WebphonePage;
      try {
        a = await phone(U.dropA);
      } finally {
        await suite.setSetting(U.owner, 'webphone.ws_url', '');
      }
      const b = await phone(U.dropB);
      expect(relay.connections).toBe(1);
      await talk(a, b, U.dropB);
      await Promise.all([audioFlowsInto(a), audioFlowsInto(b)]);

      relay.dropAll();
      await a.page
        .getByRole('status')
        .filter({ hasText: /^(Connecting…|Not registered)$/ })
        .waitFor(LONG);
      await registered(a);
      expect(relay.connections).toBe(1);
      await talking(a, b);
      // The far side's BYE finds A on its new socket.
      await hangUp(b, a);
    } finally {
      await relay.close();
    }
  });

  it('incoming call while the tab is hidden: a notification through the service worker, Answer on the page works, the notification goes', async () => {
    const a = await phone(U.hiddenA);
    const b = await phone(U.hiddenB);
    await b.page.context().grantPermissions(['notifications'], { origin: suite.base });
    await b.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await setTabHidden(b.page, true);
    await dial(a, U.hiddenB);
    const shown = await waitFor(
      'a notification at B',
      () => notifications(b),
      (n) => n.length > 0,
    );
    expect(shown).toEqual([{ title: 'Incoming call', body: `${U.hiddenA.name} (${U.hiddenA.ext})` }]);
    await setTabHidden(b.page, false);
    await answer(b);
    await Promise.all([connected(a), connected(b)]);
    await waitFor(
      'the notification closed',
      () => notifications(b),
      (n) => n.length === 0,
    );
    await hangUp(a, b);
  });

  it('update prompt: a new version found when the tab comes back is offered after the call, and accepting reloads into it', async () => {
    const front = await WebphoneFront.start(suite.handset.httpPort);
    try {
      const a = await suite.browser.open();
      pages.push(a);
      await a.page.goto(`${front.url}/`);
      await a.signIn(U.updateA.email, U.updateA.password);
      await registered(a);
      await a.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      await button(a, 'Menu').click();
      const oldBuild = (await a.page.locator('.build').textContent()) ?? '';
      await button(a, 'Close menu').click();
      const b = await phone(U.updateB);
      await dial(a, U.updateB);
      await answer(b);
      await connected(a);

      const next = await front.deploy();
      expect(oldBuild).not.toContain(next);
      // The user looks elsewhere and comes back: the phone checks for a new version.
      await setTabHidden(a.page, true);
      await setTabHidden(a.page, false);
      const waiting = () =>
        a.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting?.state ?? 'none');
      await waitFor('the new version installed and waiting', waiting, (s) => s === 'installed', 20_000);
      const prompt = a.page.getByRole('region', { name: 'A new version is available.' });
      // Reloading now would drop the call: no prompt until it ends.
      expect(await prompt.count()).toBe(0);
      await button(b, 'Hang up').click();
      await idle(a);
      await prompt.waitFor(LONG);
      await Promise.all([a.page.waitForEvent('load', LONG), prompt.getByRole('button', { name: 'Reload' }).click()]);
      await registered(a);
      await button(a, 'Menu').click();
      await expect(a.page.locator('.build').textContent()).resolves.toBe(`Build ${next}`);
      expect(await prompt.count()).toBe(0);
    } finally {
      await front.close();
    }
  });
});
