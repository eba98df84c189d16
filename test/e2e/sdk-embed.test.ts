import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HandsetProcess } from './support/handset.js';
import { provisionUsers } from './support/provision.js';
import type { PageInfo } from './support/sdk-page/driver-api.js';
import { waitFor } from './support/sdk-wait.js';
import { startSdkServer, type SdkServer } from './support/sdk-server.js';
import { SdkHarness } from './support/sdk-harness.js';

const DOMAIN = 'embed.example.test';
const pw = (ext: string) => `pw-${ext}-secret`;

const lastState = (i: PageInfo) => i.calls[i.calls.length - 1]?.state;

describe('Handset.mount: a third-party page drives the phone in an iframe on another origin', () => {
  let server: SdkServer;
  let handset: HandsetProcess;
  let harness: SdkHarness;
  const closers: Array<{ close(): Promise<void>; logs(): string }> = [];

  beforeAll(async () => {
    [server, harness] = await Promise.all([startSdkServer(), SdkHarness.start()]);
    handset = server.handset;
    await provisionUsers(handset, DOMAIN, ['3001', '3002'], pw);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail')
      closers.forEach((p, i) => console.error(`--- page ${i} ---\n${p.logs().slice(-10_000)}`));
  });
  afterAll(async () => {
    for (const p of closers) await p.close().catch(() => undefined);
    await harness?.close();
    await server?.stop();
  });

  it('configure, register, call, DTMF and hang-up through promises, with registration, call and CDR events; forged messages are ignored', async () => {
    expect(new URL(harness.origins.parent).origin).not.toBe(new URL(harness.origins.phones).origin);
    const parent = await harness.openParent();
    closers.push(parent);
    const bob = await harness.openPhone();
    closers.push(bob);
    await bob.do.start(`ws://127.0.0.1:${handset.httpPort}/sip`, `sip:3002@${DOMAIN}`, pw('3002'));

    await parent.do.mount(harness.embeddedUrl());
    await parent.do.configure(`ws://127.0.0.1:${handset.httpPort}/sip`, `sip:3001@${DOMAIN}`, pw('3001'));
    const state = await parent.do.register();
    expect(state).toMatchObject({ configured: true, registration: 'registered', connection: 'connected' });
    await waitFor(
      'the registration event',
      () => parent.do.events(),
      (e) => e.includes('registration:registered'),
    );

    const call = await parent.do.call('3002');
    expect(call.state).toBe('calling');
    await waitFor(
      'Bob ringing',
      () => bob.do.info(),
      (i) => lastState(i) === 'ringing',
    );
    await bob.do.answer();
    await waitFor(
      'the active call event',
      () => parent.do.events(),
      (e) => e.includes('call:active'),
    );

    await parent.do.sendDTMF('7');
    await waitFor(
      'the tone at Bob',
      () => bob.do.info(),
      (i) => i.events.includes('dtmf:7'),
    );

    // A hostile frame on a third origin forges phone events to the page and requests to the phone.
    const before = await parent.do.events();
    await parent.do.addForger(`${harness.origins.forger}/forger.html`);
    expect(await parent.do.events()).toEqual(before);
    // The phone placed no second call for the forger.
    const st = await parent.do.getState();
    expect(st.calls).toHaveLength(1);
    expect((await bob.do.info()).calls).toHaveLength(1);

    await parent.do.hangup();
    await waitFor(
      'Bob idle',
      () => bob.do.info(),
      (i) => lastState(i) === 'ended',
    );
    const events = await waitFor(
      'the CDR event',
      () => parent.do.events(),
      (e) => e.some((x) => x.startsWith('cdr:')),
    );
    const cdr = events.find((x) => x.startsWith('cdr:'))!;
    const bobCallId = (await bob.do.info()).calls[0]!.callId;
    expect(cdr).toContain(bobCallId);
    expect(events).toContain('call:ended');
    expect(events.some((e) => e.includes('forged'))).toBe(false);
  });

  it('a page on an origin the phone does not trust never gets it ready', async () => {
    const parent = await harness.openParent();
    closers.push(parent);
    // The embedded phone trusts only harness.origins.parent; this URL names the forger's origin instead.
    const src = `${harness.origins.phones}/embedded.html?parent=${encodeURIComponent(harness.origins.forger)}`;
    const err = await parent.do.mount(src).then(
      () => 'mounted',
      (e: unknown) => String(e),
    );
    expect(err).toMatch(/did not finish within|timeout/i);
  });
});
