import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type BaresipAgent } from './support/baresip.js';
import { callAndHangUp, type BaresipCall } from './support/baresip-call.js';
import { waitForCdrs } from './support/cdrs.js';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { interopEnv } from './support/interop-env.js';

// Two real SIP phones (Debian baresip-core): Alice over UDP, Bob over TCP, both through Handset as
// outbound proxy. Each sends its own sine tone (ausine), so what one end records must be the other's tone.
const DOMAIN = 'example.test';
const ALICE = { user: '1001', password: 's3cret-alice', name: 'Alice', toneHz: 440 };
const BOB = { user: '1002', password: 's3cret-bob', name: 'Bob', toneHz: 1000 };

describe('baresip phones through Handset (UDP caller, TCP callee)', () => {
  let h: HandsetProcess;
  let alice: BaresipAgent;
  let bob: BaresipAgent;
  let call: BaresipCall | undefined;

  const context = () =>
    `--- alice ---\n${alice?.output() ?? ''}\n--- bob ---\n${bob?.output() ?? ''}\n--- handset (tail) ---\n` +
    (h?.output().split('\n').slice(-60).join('\n') ?? '');

  beforeAll(async () => {
    h = await startHandset(interopEnv);
    await h.cli('domains', 'add', DOMAIN);
    for (const u of [ALICE, BOB]) {
      await h.cli('users', 'add', `${u.user}@${DOMAIN}`, '--password', u.password, '--name', u.name);
    }
  });
  afterAll(async () => {
    await Promise.allSettled([alice?.stop(), bob?.stop()]);
    await h?.stop();
  });

  it('registers one phone over UDP and one over TCP', async () => {
    alice = await startBaresip({ ...ALICE, domain: DOMAIN, proxyPort: h.sipPort, transport: 'udp' });
    bob = await startBaresip({ ...BOB, domain: DOMAIN, proxyPort: h.sipPort, transport: 'tcp' });
    await Promise.all([alice.waitForRegistered(), bob.waitForRegistered()]);
  });

  it('the UDP phone calls the TCP phone, which answers by itself, and each hears the other', async () => {
    call = await callAndHangUp(alice, bob, 3_000);
    expect(call.calleeCallId, 'both ends must see the same Call-ID').toBe(call.callId);
    // 3 s of 20 ms PCMU packets is about 150 each way.
    expect(call.caller.rtp.rxPackets, context()).toBeGreaterThan(100);
    expect(call.callee.rtp.rxPackets, context()).toBeGreaterThan(100);
    // What each end decoded is the other end's tone, for most of the call.
    expect(call.caller.heard.dominantHz, JSON.stringify(call.caller.heard)).toBe(BOB.toneHz);
    expect(call.callee.heard.dominantHz, JSON.stringify(call.callee.heard)).toBe(ALICE.toneHz);
    expect(call.caller.heard.loudSeconds, JSON.stringify(call.caller.heard)).toBeGreaterThan(2);
    expect(call.callee.heard.loudSeconds, JSON.stringify(call.callee.heard)).toBeGreaterThan(2);
  });

  it('the hung-up call leaves an answered CDR naming both parties, their devices and a duration', async () => {
    expect(call, 'the call test must have run').toBeDefined();
    if (!call) return;
    const callId = call.callId;
    const [cdr] = await waitForCdrs(h, DOMAIN, (c) => c.callId === callId);
    const why = JSON.stringify(cdr, null, 1);
    expect(cdr?.disposition, why).toBe('answered');
    expect(cdr?.sipStatus, why).toBe(200);
    expect(cdr?.caller, why).toContain(ALICE.user);
    expect(cdr?.callee, why).toContain(BOB.user);
    expect(cdr?.callerDevice, why).toBeTruthy();
    expect(cdr?.calleeDevice, why).toBeTruthy();
    expect(cdr?.answeredAt, why).toBeTruthy();
    expect(cdr?.endedAt, why).toBeTruthy();
    // We talked for 3 s; allow for setup and whole-second rounding.
    expect(cdr?.durationS, why).toBeGreaterThan(0);
    expect(cdr?.durationS, why).toBeLessThan(30);
    expect(cdr?.billableS, why).toBeGreaterThanOrEqual(2);
  });

  it('the TCP phone calls the UDP phone too, and audio flows both ways', async () => {
    const back = await callAndHangUp(bob, alice, 2_000);
    expect(back.caller.rtp.rxPackets, context()).toBeGreaterThan(50);
    expect(back.callee.rtp.rxPackets, context()).toBeGreaterThan(50);
    expect(back.caller.heard.dominantHz, JSON.stringify(back.caller.heard)).toBe(ALICE.toneHz);
    expect(back.callee.heard.dominantHz, JSON.stringify(back.callee.heard)).toBe(BOB.toneHz);
    const [cdr] = await waitForCdrs(h, DOMAIN, (c) => c.callId === back.callId);
    expect(cdr?.disposition, JSON.stringify(cdr)).toBe('answered');
    expect(cdr?.caller, JSON.stringify(cdr)).toContain(BOB.user);
    expect(cdr?.callee, JSON.stringify(cdr)).toContain(ALICE.user);
  });
});
