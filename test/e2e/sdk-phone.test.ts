import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HandsetProcess } from './support/handset.js';
import { provisionUsers } from './support/provision.js';
import type { PageInfo, PageStats, SdkDriver } from './support/sdk-page/driver-api.js';
import { sleep, waitFor } from './support/sdk-wait.js';
import { startSdkServer, type SdkServer } from './support/sdk-server.js';
import { SdkHarness, type DrivenPage } from './support/sdk-harness.js';
import { TcpRelay } from './support/sdk-tcp-relay.js';

const DOMAIN = 'sdk.example.test';
const pw = (ext: string) => `pw-${ext}-secret`;

type Phone = DrivenPage<SdkDriver>;
const lastCall = (i: PageInfo) => i.calls[i.calls.length - 1];
const callState = (p: Phone, state: string) =>
  waitFor(
    `a call in state ${state}`,
    () => p.do.info(),
    (i) => lastCall(i)?.state === state,
  );
const liveCalls = (i: PageInfo) => i.calls.filter((c) => c.state !== 'ended');

/** Inbound audio grows on both pages over `ms`. */
async function audioFlowsBothWays(a: Phone, b: Phone, ms = 1500): Promise<[PageStats, PageStats]> {
  const a1 = await waitFor(
    'audio at A',
    () => a.do.stats(),
    (s) => s.audioIn > 0,
  );
  const b1 = await waitFor(
    'audio at B',
    () => b.do.stats(),
    (s) => s.audioIn > 0,
  );
  await sleep(ms);
  const a2 = await a.do.stats();
  const b2 = await b.do.stats();
  expect(a2.audioIn - a1.audioIn, 'packets into A').toBeGreaterThan(20);
  expect(b2.audioIn - b1.audioIn, 'packets into B').toBeGreaterThan(20);
  return [a2, b2];
}

describe('Handset SDK in headless Chromium against Handset', () => {
  let server: SdkServer;
  let handset: HandsetProcess;
  let harness: SdkHarness;
  const pages: Phone[] = [];
  const wsUrl = () => `ws://127.0.0.1:${handset.httpPort}/sip`;

  async function phone(ext: string, server = wsUrl()): Promise<Phone> {
    const p = await harness.openPhone();
    pages.push(p);
    await p.do.start(server, `sip:${ext}@${DOMAIN}`, pw(ext));
    return p;
  }

  beforeAll(async () => {
    [server, harness] = await Promise.all([startSdkServer(), SdkHarness.start()]);
    handset = server.handset;
    await provisionUsers(handset, DOMAIN, ['2001', '2002', '2003', '2004', '2005', '2006'], pw);
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      pages.forEach((p, i) => console.error(`--- page ${i} ---\n${p.logs().slice(-15_000)}`));
    for (const p of pages.splice(0)) {
      await p.do.stop().catch(() => undefined);
      await p.close();
    }
  });

  afterAll(async () => {
    await harness?.close();
    await server?.stop();
  });

  it('A calls B: B rings and answers, audio flows both ways, DTMF reaches B, hold stops media, unhold restarts it, hang-up ends both', async () => {
    const a = await phone('2001');
    const b = await phone('2002');
    expect((await a.do.info()).registration).toBe('registered');

    await a.do.call('2002', false);
    const ringing = await callState(b, 'ringing');
    expect(lastCall(ringing)!.direction).toBe('incoming');
    expect(lastCall(ringing)!.remoteUri).toContain('2001@');
    expect(ringing.events).toContain('incoming:call-1');
    await b.do.answer();
    const aUp = await callState(a, 'active');
    const bUp = await callState(b, 'active');
    expect(lastCall(bUp)!.callId).toBe(lastCall(aUp)!.callId);
    const [aStats] = await audioFlowsBothWays(a, b);
    expect(aStats.audioOut).toBeGreaterThan(0);
    expect(aStats.rttMs === null || aStats.rttMs < 200).toBe(true);

    // DTMF: SIP INFO is visible to B's page; RFC 4733 goes into the RTP stream (A's sender reports each tone).
    await a.do.sendDTMF('5#', 'info');
    await waitFor(
      'INFO tones at B',
      () => b.do.info(),
      (i) => i.events.includes('dtmf:5') && i.events.includes('dtmf:#'),
    );
    await a.do.sendDTMF('19', 'rfc4733');
    await waitFor(
      'RFC 4733 tones sent by A',
      () => a.do.info(),
      (i) => i.events.includes('dtmfSent:1') && i.events.includes('dtmfSent:9'),
    );

    // Hold: inactive both ways, so neither side receives.
    await a.do.hold();
    await waitFor(
      'hold at B',
      () => b.do.info(),
      (i) => lastCall(i)!.hold.remote,
    );
    await sleep(700);
    expect(await a.do.directions()).toEqual(['sendrecv/inactive']);
    expect(await b.do.directions()).toEqual(['sendrecv/inactive']);
    const aHeld1 = await a.do.stats();
    const bHeld1 = await b.do.stats();
    await sleep(1500);
    const aHeld2 = await a.do.stats();
    const bHeld2 = await b.do.stats();
    expect(aHeld2.audioIn - aHeld1.audioIn, 'packets into A on hold').toBeLessThan(5);
    expect(bHeld2.audioIn - bHeld1.audioIn, 'packets into B on hold').toBeLessThan(5);

    await a.do.unhold();
    await waitFor(
      'unhold at B',
      () => b.do.info(),
      (i) => !lastCall(i)!.hold.remote,
    );
    expect(await a.do.directions()).toEqual(['sendrecv/sendrecv']);
    await audioFlowsBothWays(a, b);

    await a.do.hangup();
    const aEnd = await callState(a, 'ended');
    const bEnd = await callState(b, 'ended');
    expect(lastCall(aEnd)!.end).toMatchObject({ by: 'local' });
    expect(lastCall(bEnd)!.end).toMatchObject({ by: 'remote' });
    expect(liveCalls(aEnd)).toEqual([]);
    expect(liveCalls(bEnd)).toEqual([]);
  });

  it('B blind-transfers A to C: A ends up talking to C, B drops out, hang-up returns all to idle', async () => {
    const a = await phone('2003');
    const b = await phone('2004');
    const c = await phone('2005');
    await a.do.call('2004', false);
    await callState(b, 'ringing');
    await b.do.answer();
    await callState(a, 'active');

    await b.do.transfer(`sip:2005@${DOMAIN}`);
    const cRinging = await callState(c, 'ringing');
    expect(lastCall(cRinging)!.remoteUri).toContain('2003@');
    await c.do.answer();
    const aInfo = await waitFor(
      'A in a second, active call',
      () => a.do.info(),
      (i) => i.calls.length === 2 && lastCall(i)!.state === 'active',
    );
    expect(lastCall(aInfo)!.remoteUri).toContain('2005@');
    // The transferor hangs up once the REFER succeeded; the original call is over on both sides.
    const bInfo = await waitFor(
      'B idle',
      () => b.do.info(),
      (i) => liveCalls(i).length === 0,
    );
    expect(bInfo.events).toContain('transfer:ok');
    await waitFor(
      'A left only with C',
      () => a.do.info(),
      (i) => liveCalls(i).length === 1,
    );
    await audioFlowsBothWays(a, c);

    await c.do.hangup();
    await waitFor(
      'A idle',
      () => a.do.info(),
      (i) => liveCalls(i).length === 0,
    );
    expect(liveCalls(await c.do.info())).toEqual([]);
  });

  it('B attended-transfers A to C: B consults C while A holds, then A and C talk and B is idle', async () => {
    const a = await phone('2003');
    const b = await phone('2004');
    const c = await phone('2005');
    await a.do.call('2004', false);
    await callState(b, 'ringing');
    await b.do.answer();
    await callState(a, 'active');
    const toA = lastCall(await b.do.info())!.id;

    // B puts A on hold and calls C (the consultation call).
    await b.do.hold(toA);
    const toC = await b.do.call('2005', false);
    await callState(c, 'ringing');
    await c.do.answer();
    await waitFor(
      'B talking to C',
      () => b.do.info(),
      (i) => i.calls.find((x) => x.id === toC)?.state === 'active',
    );
    expect((await b.do.info()).calls.find((x) => x.id === toA)!.hold.local).toBe(true);

    await b.do.attendedTransfer(toA, toC);
    await waitFor(
      'B idle',
      () => b.do.info(),
      (i) => liveCalls(i).length === 0,
    );
    const aInfo = await waitFor(
      'A in one call with C',
      () => a.do.info(),
      (i) =>
        liveCalls(i).length === 1 &&
        liveCalls(i)[0]!.remoteUri.includes('2005@') &&
        liveCalls(i)[0]!.state === 'active',
    );
    expect(aInfo.calls).toHaveLength(2);
    // C's first call (from B) was replaced by the one from A.
    const cInfo = await waitFor(
      'C in one call with A',
      () => c.do.info(),
      (i) => liveCalls(i).length === 1 && liveCalls(i)[0]!.state === 'active',
    );
    expect(liveCalls(cInfo)[0]!.remoteUri).toContain('2003@');
    await audioFlowsBothWays(a, c);
    await a.do.hangup();
    await waitFor(
      'C idle',
      () => c.do.info(),
      (i) => liveCalls(i).length === 0,
    );
  });

  it('a video call shows a remote picture that is not black on both sides', async () => {
    const a = await phone('2001');
    const b = await phone('2002');
    await a.do.call('2002', true);
    const ringing = await callState(b, 'ringing');
    expect(lastCall(ringing)!.video).toBe(true);
    await b.do.answer();
    await callState(a, 'active');
    await waitFor(
      'video packets at A',
      () => a.do.stats(),
      (s) => s.videoIn > 30,
    );
    await waitFor(
      'video packets at B',
      () => b.do.stats(),
      (s) => s.videoIn > 30,
    );
    // Chromium's fake camera paints a moving pattern on green: most sampled pixels are lit.
    expect(
      await waitFor(
        'a lit picture at A',
        () => a.do.remoteVideoLit(),
        (f) => f > 0.5,
      ),
    ).toBeGreaterThan(0.5);
    expect(
      await waitFor(
        'a lit picture at B',
        () => b.do.remoteVideoLit(),
        (f) => f > 0.5,
      ),
    ).toBeGreaterThan(0.5);
    await a.do.hangup();
    await callState(b, 'ended');
  });

  it('a dropped WebSocket mid-call: registration comes back by itself and the call survives (ICE restart, media, hang-up)', async () => {
    const relay = await TcpRelay.start(handset.httpPort);
    try {
      const a = await phone('2006', `ws://127.0.0.1:${relay.port}/sip`);
      const b = await phone('2002');
      await a.do.call('2002', false);
      await callState(b, 'ringing');
      await b.do.answer();
      await callState(a, 'active');
      await audioFlowsBothWays(a, b, 500);

      relay.dropAll();
      await waitFor(
        'A notices the loss',
        () => a.do.info(),
        (i) => i.events.includes('connection:reconnecting'),
      );
      const back = await waitFor(
        'A registered again',
        () => a.do.info(),
        (i) => i.events.includes('reconnected') && i.registration === 'registered',
      );
      expect(back.events.filter((e) => e === 'registration:registered').length).toBe(2);
      await waitFor(
        'ICE restart re-INVITE answered',
        () => a.do.info(),
        (i) => i.events.some((e) => e.startsWith('iceRestarted:')),
      );
      expect(lastCall(await a.do.info())!.state).toBe('active');
      expect(lastCall(await b.do.info())!.state).toBe('active');
      await audioFlowsBothWays(a, b);

      await a.do.hangup();
      await callState(b, 'ended');
    } finally {
      await relay.close();
    }
  });

  // Known to fail today: the proxy routes the far side's in-dialog requests by the flow token in
  // its Record-Route, and that flow died with the socket (430 Flow Failed), though the phone is
  // registered again with the same Contact on a new flow.
  it('after a WebSocket reconnect the far side can still hang up the surviving call', async () => {
    const relay = await TcpRelay.start(handset.httpPort);
    try {
      const a = await phone('2006', `ws://127.0.0.1:${relay.port}/sip`);
      const b = await phone('2002');
      await a.do.call('2002', false);
      await callState(b, 'ringing');
      await b.do.answer();
      await callState(a, 'active');
      relay.dropAll();
      await waitFor(
        'A registered again',
        () => a.do.info(),
        (i) => i.events.includes('reconnected') && i.registration === 'registered',
      );
      await b.do.hangup();
      await callState(a, 'ended');
    } finally {
      await relay.close();
    }
  });
});
