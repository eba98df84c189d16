/**
 * A browser and a desk phone talk through Handset and its private rtpengine: baresip (UDP, PCMU
 * only) and the web phone in Chromium, each direction. Rings, answered, audio both ways (baresip
 * records what it hears; the page measures its inbound audio), DTMF from the web phone heard by
 * baresip, hang-up from each side, CDRs complete, and no rtpengine session left afterwards.
 * rtpengine killed mid-call ends the call cleanly, and the next call works once it is back.
 * Without rtpengine, the web phone says the call is not possible, in words.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type BaresipAgent } from './support/baresip.js';
import { waitForCdrs } from './support/cdrs.js';
import { freePort } from './support/handset.js';
import { interopEnv } from './support/interop-env.js';
import { privateRtpengine, type PrivateRtpengine } from './support/rtpengine-probe.js';
import { sleep, waitFor } from './support/sdk-wait.js';
import { analyzeWav } from './support/wav.js';
import type { WebphonePage } from './support/webphone-browser.js';
import { heardEnergy, listenToRemoteAudio, recordMedia, useToneMicrophone } from './support/webphone-media.js';
import type { SeedUser } from './support/webphone-seed.js';
import { startWebphoneSuite, type WebphoneSuite } from './support/webphone-suite.js';

const DOMAIN = 'media.example.test';
const WEB: SeedUser = {
  domain: DOMAIN,
  ext: '2101',
  email: 'web@media.example.test',
  password: 'web-media-secret-1',
  name: 'Wanda',
};
const DESK: SeedUser = {
  domain: DOMAIN,
  ext: '2102',
  email: 'desk@media.example.test',
  password: 'desk-media-secret-2',
  name: 'Desmond',
};
const DESK_TONE = 1000;
const WEB_TONE = 440;
const LONG = { timeout: 20_000 };

/** A random RTP port range of 200 for this run's rtpengine. */
async function rtpRange(): Promise<Record<string, string>> {
  const base = 20000 + Math.floor(Math.random() * 200) * 100;
  void (await freePort());
  return { HANDSET_RTP_PORT_MIN: String(base), HANDSET_RTP_PORT_MAX: String(base + 199) };
}

const button = (p: WebphonePage, name: string) => p.page.getByRole('button', { name, exact: true });
const status = (p: WebphonePage, text: string | RegExp) =>
  p.page.getByRole('status').filter({ hasText: text }).waitFor(LONG);

async function webPhone(suite: WebphoneSuite): Promise<WebphonePage> {
  const p = await suite.browser.open();
  await recordMedia(p.page);
  await p.signIn(WEB.email, WEB.password);
  await useToneMicrophone(p.page);
  return p;
}

async function deskPhone(suite: WebphoneSuite): Promise<BaresipAgent> {
  const desk = await startBaresip({
    user: DESK.ext,
    domain: DOMAIN,
    password: DESK.password,
    proxyPort: suite.handset.sipPort,
    transport: 'udp',
    toneHz: DESK_TONE,
    answerMode: 'manual',
    audioCodecs: 'PCMU',
  });
  await desk.waitForRegistered();
  return desk;
}

/** The energy the page hears over `ms`. */
async function energyOver(p: WebphonePage, ms: number): Promise<number> {
  const e1 = await heardEnergy(p.page);
  await sleep(ms);
  return (await heardEnergy(p.page)) - e1;
}

describe('web phone <-> baresip through rtpengine', () => {
  let suite: WebphoneSuite;
  let desk: BaresipAgent;
  let web: WebphonePage;
  let rtpe: PrivateRtpengine;
  const context = () =>
    `--- desk ---\n${desk?.output().slice(-3000) ?? ''}\n--- page ---\n${web?.logs().slice(-3000) ?? ''}\n` +
    `--- handset (tail) ---\n${suite?.handset.output().split('\n').slice(-40).join('\n') ?? ''}`;

  beforeAll(async () => {
    suite = await startWebphoneSuite([WEB, DESK], { ...interopEnv, ...(await rtpRange()) });
    rtpe = privateRtpengine(suite.handset);
    desk = await deskPhone(suite);
    web = await webPhone(suite);
  }, 240_000);
  afterAll(async () => {
    rtpe?.close();
    await desk?.stop();
    await suite?.stop();
  });

  it('the web phone calls the desk phone: it rings, is answered, both hear each other, DTMF reaches the desk, the web hangs up', async () => {
    const since = desk.events().length;
    await web.page.getByLabel('Number').fill(DESK.ext);
    await button(web, 'Call').click();
    const incoming = await desk.waitForEvent('CALL_INCOMING', { since, timeoutMs: 20_000 });
    expect((await desk.command('accept')).ok, context()).toBe(true);
    await desk.waitForEvent('CALL_ESTABLISHED', { since, timeoutMs: 20_000 });
    await status(web, 'Connected');
    await listenToRemoteAudio(web.page);
    // The desk phone's 1 kHz tone, through rtpengine (PCMU -> the browser's codec), is heard in the page.
    expect(await energyOver(web, 2000), context()).toBeGreaterThan(0.05);

    await button(web, 'Keypad').click();
    const pad = web.page.getByRole('group', { name: 'Keypad' });
    for (const k of ['1', '4', '#']) {
      await pad.getByRole('button', { name: k, exact: true }).click();
      await sleep(400);
    }
    const dtmf = await waitFor(
      'DTMF at the desk phone',
      () =>
        Promise.resolve(
          desk
            .events()
            .slice(since)
            .filter((e) => e.type === 'CALL_DTMF_START'),
        ),
      (list) => list.length >= 3,
      10_000,
    );
    expect(dtmf.map((e) => String(e.param)).join(''), context()).toBe('14#');

    await button(web, 'Hang up').click();
    await desk.waitForEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    await web.page.getByLabel('Number').waitFor(LONG);
    // What the desk phone decoded is the browser's 440 Hz tone.
    const heard = await analyzeWav((await desk.recordings()).decode.at(-1)!);
    expect(heard.dominantHz, JSON.stringify(heard)).toBe(WEB_TONE);
    expect(heard.loudSeconds, JSON.stringify(heard)).toBeGreaterThan(1);

    const callId = String(incoming.id);
    const [cdr] = await waitForCdrs(suite.handset, DOMAIN, (c) => c.callId === callId);
    expect(cdr?.disposition, JSON.stringify(cdr)).toBe('answered');
    expect(cdr?.caller, JSON.stringify(cdr)).toContain(WEB.ext);
    expect(cdr?.callee, JSON.stringify(cdr)).toContain(DESK.ext);
    expect(cdr?.billableS, JSON.stringify(cdr)).toBeGreaterThan(1);
    await waitFor(
      'no rtpengine session left',
      () => rtpe.sessions(),
      (n) => n === 0,
      10_000,
    );
  });

  it('the desk phone calls the web phone: it rings in the page, is answered, both hear each other, the desk hangs up', async () => {
    const since = desk.events().length;
    expect((await desk.command('dial', `sip:${WEB.ext}@${DOMAIN}`)).ok, context()).toBe(true);
    await button(web, 'Answer').waitFor(LONG);
    await button(web, 'Answer').click();
    const established = await desk.waitForEvent('CALL_ESTABLISHED', { since, timeoutMs: 20_000 });
    await status(web, 'Connected');
    await listenToRemoteAudio(web.page);
    expect(await energyOver(web, 2000), context()).toBeGreaterThan(0.05);
    expect((await desk.command('hangup')).ok).toBe(true);
    await desk.waitForEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    await web.page.getByLabel('Number').waitFor(LONG);
    const heard = await analyzeWav((await desk.recordings()).decode.at(-1)!);
    expect(heard.dominantHz, JSON.stringify(heard)).toBe(WEB_TONE);
    const callId = String(established.id);
    const [cdr] = await waitForCdrs(suite.handset, DOMAIN, (c) => c.callId === callId);
    expect(cdr?.disposition, JSON.stringify(cdr)).toBe('answered');
    expect(cdr?.caller, JSON.stringify(cdr)).toContain(DESK.ext);
    await waitFor(
      'no rtpengine session left',
      () => rtpe.sessions(),
      (n) => n === 0,
      10_000,
    );
  });

  it('hold and resume from each side: the held audio stops at the page and comes back', async () => {
    const since = desk.events().length;
    await web.page.getByLabel('Number').fill(DESK.ext);
    await button(web, 'Call').click();
    const incoming = await desk.waitForEvent('CALL_INCOMING', { since, timeoutMs: 20_000 });
    await desk.command('accept');
    await status(web, 'Connected');
    await listenToRemoteAudio(web.page);
    expect(await energyOver(web, 1500), context()).toBeGreaterThan(0.05);

    // The web phone holds (re-INVITE a=sendonly through rtpengine to the desk phone, which stops sending).
    await button(web, 'Hold').click();
    await waitFor(
      'Hold pressed',
      () => button(web, 'Hold').getAttribute('aria-pressed'),
      (v) => v === 'true',
      10_000,
    );
    await sleep(800);
    expect(await energyOver(web, 1500), context()).toBeLessThan(0.01);
    await button(web, 'Hold').click();
    await waitFor(
      'Hold released',
      () => button(web, 'Hold').getAttribute('aria-pressed'),
      (v) => v === 'false',
      10_000,
    );
    await waitFor(
      'audio back after resume',
      () => energyOver(web, 800),
      (e) => e > 0.02,
      10_000,
    );

    // The desk phone holds and resumes.
    expect((await desk.command('hold')).ok, context()).toBe(true);
    await sleep(1500);
    expect(await energyOver(web, 1500), context()).toBeLessThan(0.01);
    expect((await desk.command('resume')).ok, context()).toBe(true);
    await waitFor(
      'audio back after the desk resumed',
      () => energyOver(web, 800),
      (e) => e > 0.02,
      10_000,
    );

    await button(web, 'Hang up').click();
    await desk.waitForEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
    const callId = String(incoming.id);
    const [cdr] = await waitForCdrs(suite.handset, DOMAIN, (c) => c.callId === callId);
    expect(cdr?.disposition, JSON.stringify(cdr)).toBe('answered');
    await waitFor(
      'no rtpengine session left',
      () => rtpe.sessions(),
      (n) => n === 0,
      10_000,
    );
  });

  it('a SIPp caller playing G.711 RTP from a pcap reaches the web phone, which hears it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sipp-media-'));
    try {
      await writeFile(join(dir, 'callers.csv'), `SEQUENTIAL\n${DESK.ext};${DESK.password};${DOMAIN}\n`);
      const scenario = fileURLToPath(new URL('../../bench/media/uac.xml', import.meta.url));
      const args = [`127.0.0.1:${suite.handset.sipPort}`, '-sf', scenario, '-inf', join(dir, 'callers.csv')];
      args.push('-s', WEB.ext, '-m', '1', '-d', '5000', '-t', 'u1', '-i', '127.0.0.1');
      args.push('-p', String(await freePort()), '-mp', String(await freePort()), '-nostdin', '-timeout', '60');
      let out = '';
      const sipp = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      sipp.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
      const exited = new Promise<number | null>((resolve) => sipp.on('exit', resolve));
      await button(web, 'Answer').waitFor(LONG);
      await button(web, 'Answer').click();
      await status(web, 'Connected');
      await listenToRemoteAudio(web.page);
      expect(await energyOver(web, 2000), `${context()}\n--- sipp ---\n${out}`).toBeGreaterThan(0.05);
      expect(await exited, out).toBe(0);
      await web.page.getByLabel('Number').waitFor(LONG);
      await waitFor(
        'no rtpengine session left',
        () => rtpe.sessions(),
        (n) => n === 0,
        10_000,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rtpengine killed mid-call: both ends are hung up and the CDR is closed; the next call works once it is back', async () => {
    const since = desk.events().length;
    await web.page.getByLabel('Number').fill(DESK.ext);
    await button(web, 'Call').click();
    const incoming = await desk.waitForEvent('CALL_INCOMING', { since, timeoutMs: 20_000 });
    await desk.command('accept');
    await status(web, 'Connected');
    const pid = rtpe.pid();
    process.kill(pid, 'SIGKILL');
    await desk.waitForEvent('CALL_CLOSED', { since, timeoutMs: 15_000 });
    await web.page.getByLabel('Number').waitFor(LONG);
    const callId = String(incoming.id);
    const [cdr] = await waitForCdrs(suite.handset, DOMAIN, (c) => c.callId === callId && c.endedAt !== null);
    expect(cdr?.disposition, JSON.stringify(cdr)).toBe('answered');

    await waitFor(
      'rtpengine restarted',
      () => Promise.resolve(rtpe.pid()),
      (p) => p !== pid,
      20_000,
    );
    await waitFor(
      'media available again',
      async () => ((await (await fetch(`${suite.base}/healthz`)).json()) as { media?: { available?: boolean } }).media,
      (m) => m?.available === true,
      20_000,
    );
    const again = desk.events().length;
    await web.page.getByLabel('Number').fill(DESK.ext);
    await button(web, 'Call').click();
    await desk.waitForEvent('CALL_INCOMING', { since: again, timeoutMs: 20_000 });
    await desk.command('accept');
    await status(web, 'Connected');
    await listenToRemoteAudio(web.page);
    expect(await energyOver(web, 2000), context()).toBeGreaterThan(0.05);
    await button(web, 'Hang up').click();
    await desk.waitForEvent('CALL_CLOSED', { since: again, timeoutMs: 10_000 });
    await waitFor(
      'no rtpengine session left',
      () => rtpe.sessions(),
      (n) => n === 0,
      10_000,
    );
  });
});

describe('web phone -> baresip without rtpengine', () => {
  let suite: WebphoneSuite;
  let desk: BaresipAgent;

  beforeAll(async () => {
    suite = await startWebphoneSuite([WEB, DESK], { ...interopEnv, HANDSET_RTPENGINE_BIN: '/nonexistent/rtpengine' });
    desk = await deskPhone(suite);
  }, 240_000);
  afterAll(async () => {
    await desk?.stop();
    await suite?.stop();
  });

  it('the call is refused and the web phone says media is not possible, in words; the desk phone never rings', async () => {
    expect(suite.handset.output()).toMatch(/rtpengine is not installed/);
    const web = await webPhone(suite);
    const since = desk.events().length;
    await web.page.getByLabel('Number').fill(DESK.ext);
    await button(web, 'Call').click();
    await web.page.getByText(/Call failed: media not possible/).waitFor(LONG);
    await web.page.getByLabel('Number').waitFor(LONG);
    expect(
      desk
        .events()
        .slice(since)
        .some((e) => e.type === 'CALL_INCOMING'),
    ).toBe(false);
  });
});
