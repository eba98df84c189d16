import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BrowserHarness, type BrowserPhone } from './support/browser.js';
import { startHandset, type HandsetProcess } from './support/handset.js';
import type { AudioStats } from './support/jssip-page/phone-api.js';
import { sleep, waitFor } from './support/sdk-wait.js';

/** One row of `handset cdrs list --json` (the fields this test reads). */
interface CdrRow {
  callId: string;
  caller: string;
  callee: string;
  domain: string;
  durationS: number;
  disposition: string;
}

/**
 * How a raw WebSocket to the SIP endpoint fared: refused by the server (no 101), or upgraded, with
 * the subprotocol the server chose, the first thing it said, and how it ended: a close code, the
 * client aborting (ws does when the server picks none of the subprotocols offered) or still open.
 */
type WsOutcome =
  | { kind: 'refused'; detail: string }
  | {
      kind: 'upgraded';
      protocol: string | null;
      firstMessage: string | null;
      ended: number | 'client-abort' | null;
    };

/** Opens a WebSocket offering `protocols`, sends one REGISTER if it opens, and reports what happened. */
function probeWebSocket(url: string, protocols: string[]): Promise<WsOutcome> {
  const register = [
    'REGISTER sip:example.test SIP/2.0',
    'Via: SIP/2.0/WS probe.invalid;branch=z9hG4bK-e2e-ws-probe',
    'Max-Forwards: 70',
    'From: <sip:1001@example.test>;tag=probe',
    'To: <sip:1001@example.test>',
    `Call-ID: ws-probe-${Date.now()}`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:probe@probe.invalid;transport=ws>',
    'Expires: 60',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    let opened = false;
    let protocol: string | null = null;
    let upgraded = false;
    let firstMessage: string | null = null;
    const upgradedNow = (ended: number | 'client-abort' | null): WsOutcome => ({
      kind: 'upgraded',
      protocol,
      firstMessage,
      ended,
    });
    const finish = (o: WsOutcome) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => finish(upgradedNow(null)), 3_000);
    ws.on('unexpected-response', (_req, res) => finish({ kind: 'refused', detail: `HTTP ${res.statusCode}` }));
    // 101 from the server; the client may still abort it (e.g. a subprotocol it did not ask for).
    ws.on('upgrade', (res) => {
      upgraded = true;
      protocol = res.headers['sec-websocket-protocol'] ?? null;
    });
    ws.on('error', (err) => {
      if (!opened) finish(upgraded ? upgradedNow('client-abort') : { kind: 'refused', detail: err.message });
    });
    ws.on('open', () => {
      opened = true;
      ws.send(register);
    });
    ws.on('message', (data: Buffer) => {
      firstMessage ??= data.toString();
      finish(upgradedNow(null));
    });
    ws.on('close', (code) => {
      finish(upgraded ? upgradedNow(code) : { kind: 'refused', detail: `closed ${code}` });
    });
  });
}

describe('JsSIP 3.13 in headless Chromium against Handset over WebSocket', () => {
  let handset: HandsetProcess;
  let browser: BrowserHarness;
  const phones: BrowserPhone[] = [];
  const wsUrl = () => `ws://127.0.0.1:${handset.httpPort}/sip`;

  async function openPhone(): Promise<BrowserPhone> {
    const p = await browser.openPhone();
    phones.push(p);
    return p;
  }

  beforeAll(async () => {
    [handset, browser] = await Promise.all([startHandset(), BrowserHarness.start()]);
    await handset.cli('domains', 'add', 'example.test');
    await handset.cli('users', 'add', '1001@example.test', '--password', 'pw1');
    await handset.cli('users', 'add', '1002@example.test', '--password', 'pw2');
  });

  // On failure, show what the pages logged (JsSIP's whole SIP trace with HANDSET_E2E_DEBUG=1).
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    phones.forEach((p, i) => console.error(`--- page ${i} console ---\n${p.logs().slice(-20_000)}`));
  });

  afterAll(async () => {
    for (const p of phones) await p.close().catch(() => undefined);
    await browser?.close();
    await handset?.stop();
  });

  it('two pages register, call, exchange audio both ways, hang up, and the call leaves an answered CDR', async () => {
    const alice = await openPhone();
    const bob = await openPhone();

    expect(await alice.register(wsUrl(), 'sip:1001@example.test', 'pw1')).toEqual({ ok: true, status: 200 });
    expect(await bob.register(wsUrl(), 'sip:1002@example.test', 'pw2')).toEqual({ ok: true, status: 200 });

    await alice.call('sip:1002@example.test');
    const ringing = await bob.waitForCall(['ringing', 'failed', 'ended']);
    expect(ringing).toMatchObject({ state: 'ringing', direction: 'incoming' });
    expect(ringing.remoteIdentity).toContain('1001@example.test');

    await bob.answer();
    const aliceUp = await alice.waitForCall(['confirmed', 'failed', 'ended']);
    const bobUp = await bob.waitForCall(['confirmed', 'failed', 'ended']);
    // toMatchObject shows JsSIP's cause when a side failed instead.
    expect(aliceUp).toMatchObject({ state: 'confirmed' });
    expect(bobUp).toMatchObject({ state: 'confirmed' });
    // A proxy keeps the Call-ID end to end.
    expect(bobUp.callId).toBe(aliceUp.callId);

    // Media: both sides receive RTP, and keep receiving it.
    const flowing = (s: AudioStats) => s.inboundBytes > 0;
    const alice1 = await waitFor('audio at 1001', () => alice.getStats(), flowing);
    const bob1 = await waitFor('audio at 1002', () => bob.getStats(), flowing);
    await sleep(2_000);
    const alice2 = await alice.getStats();
    const bob2 = await bob.getStats();
    expect(alice2.inboundBytes).toBeGreaterThan(alice1.inboundBytes);
    expect(bob2.inboundBytes).toBeGreaterThan(bob1.inboundBytes);
    expect(alice2.inboundPackets).toBeGreaterThan(20);
    expect(bob2.inboundPackets).toBeGreaterThan(20);

    await alice.hangup();
    const aliceEnd = await alice.waitForCall(['ended', 'failed']);
    const bobEnd = await bob.waitForCall(['ended', 'failed']);
    expect(aliceEnd).toMatchObject({ state: 'ended', endedBy: 'local' });
    expect(bobEnd).toMatchObject({ state: 'ended', endedBy: 'remote' });

    const rows = await waitFor(
      'the CDR of the call',
      async () => JSON.parse(await handset.cli('cdrs', 'list', '--domain', 'example.test', '--json')) as CdrRow[],
      (list) => list.some((r) => r.callId === aliceUp.callId),
    );
    const cdr = rows.find((r) => r.callId === aliceUp.callId);
    expect(cdr?.caller).toContain('1001');
    expect(cdr?.callee).toContain('1002');
    expect(cdr?.domain).toBe('example.test');
    expect(cdr?.disposition).toBe('answered');
    expect(cdr?.durationS).toBeGreaterThan(0);
  });

  it('a WebSocket offering the sip subprotocol is accepted with sip echoed and answered in SIP', async () => {
    const outcome = await probeWebSocket(wsUrl(), ['sip']);
    expect(outcome).toMatchObject({ kind: 'upgraded', protocol: 'sip' });
    expect(outcome.kind === 'upgraded' ? outcome.firstMessage : null).toMatch(/^SIP\/2\.0 \d{3} /);
  });

  it('a WebSocket without the sip subprotocol is refused', async () => {
    for (const protocols of [[], ['chat']]) {
      const outcome = await probeWebSocket(wsUrl(), protocols);
      // Refused at the handshake, or upgraded without a subprotocol and closed at once without a
      // word of SIP: either way never served.
      if (outcome.kind === 'upgraded') {
        expect(outcome, `offered ${JSON.stringify(protocols)}`).toMatchObject({ protocol: null, firstMessage: null });
        expect(outcome.ended, `offered ${JSON.stringify(protocols)}`).not.toBeNull();
      } else {
        expect(outcome.kind).toBe('refused');
      }
    }
  });

  // Last: failed authentications count towards the per-source block that would stop later registrations.
  it('a page registering with a wrong password gets a registration failure', async () => {
    // The same registration with the right password succeeds, so the failure below is the password's.
    const control = await openPhone();
    expect(await control.register(wsUrl(), 'sip:1002@example.test', 'pw2')).toMatchObject({ ok: true });
    const mallory = await openPhone();
    const result = await mallory.register(wsUrl(), 'sip:1002@example.test', 'not-pw2');
    expect(result.ok).toBe(false);
    expect([401, 403]).toContain(result.status);
  });
});
