/**
 * Calls between a WebRTC end and a plain SIP phone through a whole Handset and a real
 * rtpengine (the private one Handset starts): the SDP each side gets, re-INVITE, CANCEL, BYE,
 * the rtpengine session count afterwards, the call ended cleanly when rtpengine dies, and the
 * 488 with a reason when no rtpengine exists.
 */
import { execFileSync } from 'node:child_process';
import { SipResponse } from '@handset/sip';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROME_OFFER } from '../media/testing/sdp-samples.js';
import { findExecutable } from '../media/rtpengine-supervisor.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { Cdr } from '../proxy/cdr.js';
import { eventually, TestHandset } from './testing/test-handset.js';
import type { TestUa, TestUaTransport } from './testing/test-ua.js';

const DOMAIN = 'media.test';
const PASSWORD = 'correct-horse-3';
const binary = await findExecutable('rtpengine');

/** The rtpengine processes this test process started (children of the in-process server). */
function rtpenginePids(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'rtpengine'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

describe.skipIf(!binary)('calls through rtpengine (HANDSET_MEDIA_ANCHOR=auto)', () => {
  let h: TestHandset;
  let next = 2000;
  const opened: TestUa[] = [];
  const cdrs: Cdr[] = [];

  /** A registered phone of a new user: the UA, its extension and its user id. */
  async function phone(transport: TestUaTransport): Promise<[TestUa, string, string]> {
    const ext = String(next++);
    const domainId = await h.server.services.domains.idOf(CLI_PRINCIPAL, DOMAIN);
    const user = await h.server.services.users.create(CLI_PRINCIPAL, domainId, { ext, extPassword: PASSWORD });
    const u = await h.ua(transport, ext, DOMAIN, PASSWORD);
    opened.push(u);
    expect((await u.register({ expires: 300 })).status).toBe(200);
    return [u, ext, user.id];
  }
  async function cdrOf(callId: string): Promise<Cdr> {
    await eventually(() => cdrs.some((c) => c.callId === callId), 5000, `CDR of ${callId}`);
    return cdrs.find((c) => c.callId === callId)!;
  }
  const sessions = () => h.server.media.sessionCount();

  beforeAll(async () => {
    const base = 20000 + Math.floor(Math.random() * 20000);
    h = await TestHandset.start({
      env: {
        HANDSET_MEDIA_ANCHOR: 'auto',
        HANDSET_RTP_PORT_MIN: String(base),
        HANDSET_RTP_PORT_MAX: String(base + 199),
      },
    });
    await h.provision(DOMAIN, {});
    h.server.calls.on('ended', (c) => cdrs.push(c));
  }, 60_000);
  afterEach(() => {
    for (const u of opened.splice(0)) u.close();
  });
  afterAll(async () => {
    await h?.close();
    expect(rtpenginePids()).toEqual([]);
  });

  it('a WebRTC caller reaches a plain phone: RTP/AVP toward the phone, WebRTC back, nothing left after BYE', async () => {
    const [a] = await phone('ws');
    const [b, bob] = await phone('udp');
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob, { body: CHROME_OFFER });
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const atPhone = b.calls.get(tx.request.callId)!.invite.body.toString();
    expect(atPhone).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(atPhone).not.toContain('a=fingerprint');
    expect(atPhone).not.toContain('127.0.0.1 50000'); // the browser's candidate stays behind rtpengine
    const atBrowser = ok.body.toString();
    expect(atBrowser).toContain('UDP/TLS/RTP/SAVPF');
    expect(atBrowser).toContain('a=ice-ufrag:');
    expect(atBrowser).toContain('a=fingerprint:');
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    expect(await sessions()).toBe(1);

    // Hold from the browser: the phone gets the re-offer in its own terms, and the answer comes back in WebRTC terms.
    const hold = CHROME_OFFER.replace('a=sendrecv', 'a=sendonly').replace(
      'o=- 4611731400430051336 2',
      'o=- 4611731400430051336 3',
    );
    const re = await a.request(a.inDialog(dialog, 'INVITE', { body: hold, contentType: 'application/sdp' }), {
      auth: false,
    });
    expect(re.response.status).toBe(200);
    const reAtPhone = await b.waitForRequest('INVITE', (r) => r.to.params.has('tag'));
    expect(reAtPhone.body.toString()).toContain('RTP/AVP');
    expect(reAtPhone.body.toString()).toMatch(/a=(sendonly|inactive)/);
    expect(re.response.body.toString()).toContain('UDP/TLS/RTP/SAVPF');
    a.ack(dialog);

    expect((await a.bye(dialog)).status).toBe(200);
    const cdr = await cdrOf(dialog.callId);
    expect(cdr.disposition).toBe('answered');
    expect(cdr.hangupBy).toBe('caller');
    await eventually(async () => (await sessions()) === 0, 5000, 'rtpengine session deleted');
  });

  it('a plain phone rings a browser: the browser is offered WebRTC; CANCEL deletes the session', async () => {
    const [a] = await phone('udp');
    const [b, bob] = await phone('ws');
    const tx = await a.invite(bob);
    await tx.waitResponse(180);
    const atBrowser = b.calls.get(tx.request.callId)!.invite.body.toString();
    expect(atBrowser).toContain('UDP/TLS/RTP/SAVPF');
    expect(atBrowser).toContain('a=setup:actpass');
    // PCMU is common to both ends (no transcoding); DTMF events are added, the phone offered none.
    expect(atBrowser).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 /);
    expect(atBrowser).toMatch(/a=rtpmap:\d+ telephone-event\/8000/);
    expect(await sessions()).toBe(1);
    a.cancel(tx.request);
    expect((await tx.final()).status).toBe(487);
    expect((await cdrOf(tx.request.callId)).disposition).toBe('cancelled');
    await eventually(async () => (await sessions()) === 0, 5000, 'rtpengine session deleted');
  });

  it('phone to phone and browser to browser are not anchored', async () => {
    const [a] = await phone('udp');
    const [b, bob] = await phone('udp');
    b.invitePolicy = { status: 486 };
    const tx = await a.invite(bob);
    expect((await tx.final()).status).toBe(486);
    expect(b.calls.get(tx.request.callId)!.invite.body.toString()).toContain('m=audio 40000 RTP/AVP 0');
    const [c] = await phone('ws');
    const [d, dave] = await phone('ws');
    d.invitePolicy = { status: 486 };
    const tx2 = await c.invite(dave, { body: CHROME_OFFER });
    expect((await tx2.final()).status).toBe(486);
    expect(d.calls.get(tx2.request.callId)!.invite.body.toString()).toBe(CHROME_OFFER);
    expect(await sessions()).toBe(0);
  });

  it('an offer rtpengine cannot read is refused with 488 and a reason, and the server goes on', async () => {
    const [a] = await phone('ws');
    const [, bob] = await phone('udp');
    const bad = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:nonsense\r\nc=IN IP4 999.1.1.1\r\n';
    const tx = await a.invite(bob, { body: bad });
    const res = await tx.final();
    expect(res.status).toBe(488);
    expect(res.getHeader('reason')).toMatch(/Media not possible/);
    expect(await sessions()).toBe(0);
  });

  it('a ring group of a browser and a desk phone: each member gets its own media; the desk answers through rtpengine', async () => {
    const [caller] = await phone('ws');
    const [web, , webId] = await phone('ws');
    const [desk, , deskId] = await phone('udp');
    const domainId = await h.server.services.domains.idOf(CLI_PRINCIPAL, DOMAIN);
    const groupExt = String(next++);
    const g = await h.server.services.groups.create(CLI_PRINCIPAL, domainId, {
      name: 'mixed',
      ext: groupExt,
      strategy: 'simultaneous',
      ringTimeoutS: 20,
    });
    await h.server.services.groups.setMembers(CLI_PRINCIPAL, g.id, [webId, deskId]);
    desk.invitePolicy = { status: 200, delayMs: 300 };
    const tx = await caller.invite(groupExt, { body: CHROME_OFFER });
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    // The browser member was offered the caller's WebRTC SDP as it is; the desk phone plain RTP.
    expect(web.calls.get(tx.request.callId)!.invite.body.toString()).toBe(CHROME_OFFER);
    expect(desk.calls.get(tx.request.callId)!.invite.body.toString()).toMatch(/RTP\/AVP/);
    expect(ok.body.toString()).toContain('UDP/TLS/RTP/SAVPF');
    await eventually(() => web.calls.get(tx.request.callId)!.cancelled, 5000, 'the browser member cancelled');
    const dialog = caller.dialogFrom(tx.request, ok);
    caller.ack(dialog);
    expect((await caller.bye(dialog)).status).toBe(200);
    expect((await cdrOf(dialog.callId)).disposition).toBe('answered');
    await eventually(async () => (await sessions()) === 0, 5000, 'rtpengine session deleted');
  });

  it('a ring group where the browser member answers: its answer passes untouched, nothing is left in rtpengine', async () => {
    const [caller] = await phone('ws');
    const [web, , webId] = await phone('ws');
    const [, , deskId] = await phone('udp');
    const domainId = await h.server.services.domains.idOf(CLI_PRINCIPAL, DOMAIN);
    const groupExt = String(next++);
    const g = await h.server.services.groups.create(CLI_PRINCIPAL, domainId, {
      name: 'mixed2',
      ext: groupExt,
      strategy: 'simultaneous',
      ringTimeoutS: 20,
    });
    await h.server.services.groups.setMembers(CLI_PRINCIPAL, g.id, [webId, deskId]);
    web.invitePolicy = { status: 200, delayMs: 300 };
    const tx = await caller.invite(groupExt, { body: CHROME_OFFER });
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toContain('m=audio 40002 RTP/AVP 0'); // the test UA's own answer, not rtpengine's
    const dialog = caller.dialogFrom(tx.request, ok);
    caller.ack(dialog);
    expect((await caller.bye(dialog)).status).toBe(200);
    await eventually(async () => (await sessions()) === 0, 5000, 'rtpengine session deleted');
  });

  it('rtpengine killed mid-call: BYE to both sides, CDR closed; the next call works once it is back', async () => {
    const [a] = await phone('ws');
    const [b, bob] = await phone('udp');
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob, { body: CHROME_OFFER });
    const ok = await tx.final();
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    const [pid] = rtpenginePids();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    const [byeAtBrowser, byeAtPhone] = await Promise.all([
      a.waitForRequest('BYE', (r) => r.callId === dialog.callId, 10_000),
      b.waitForRequest('BYE', (r) => r.callId === dialog.callId, 10_000),
    ]);
    // Each BYE speaks for the other side of the dialog.
    expect(byeAtBrowser.from.params.get('tag')).toBe(dialog.remoteTag);
    expect(byeAtBrowser.to.params.get('tag')).toBe(dialog.localTag);
    expect(byeAtPhone.from.params.get('tag')).toBe(dialog.localTag);
    expect(byeAtBrowser.getHeader('reason')).toMatch(/Media relay lost/);
    const cdr = await cdrOf(dialog.callId);
    expect(cdr.disposition).toBe('answered');
    expect(cdr.hangupBy).toBe('system');

    await eventually(() => h.server.media.available && rtpenginePids().length === 1, 15_000, 'rtpengine back');
    const tx2 = await a.invite(bob, { body: CHROME_OFFER });
    const ok2 = await tx2.final();
    expect(ok2.status).toBe(200);
    expect(ok2.body.toString()).toContain('UDP/TLS/RTP/SAVPF');
    const d2 = a.dialogFrom(tx2.request, ok2);
    a.ack(d2);
    expect((await a.bye(d2)).status).toBe(200);
    await eventually(async () => (await sessions()) === 0, 5000, 'rtpengine session deleted');
  }, 40_000);
});

describe('without rtpengine', () => {
  let h: TestHandset;
  beforeAll(async () => {
    h = await TestHandset.start({
      env: { HANDSET_MEDIA_ANCHOR: 'auto', HANDSET_RTPENGINE_BIN: '/nonexistent/rtpengine' },
    });
    await h.provision(DOMAIN, { '3001': PASSWORD, '3002': PASSWORD, '3003': PASSWORD });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('a browser calling a plain phone gets 488 with "Media not possible" and why; phone to phone still works', async () => {
    const a = await h.ua('ws', '3001', DOMAIN, PASSWORD);
    const b = await h.ua('udp', '3002', DOMAIN, PASSWORD);
    const c = await h.ua('udp', '3003', DOMAIN, PASSWORD);
    for (const u of [a, b, c]) expect((await u.register({ expires: 300 })).status).toBe(200);
    const tx = await a.invite('3002', { body: CHROME_OFFER });
    const res: SipResponse = await tx.final();
    expect(res.status).toBe(488);
    expect(res.getHeader('reason')).toMatch(/^SIP;cause=488;text="Media not possible: .*not installed/);
    expect(b.calls.size).toBe(0); // the phone never rang
    b.invitePolicy = { status: 200 };
    const tx2 = await c.invite('3002');
    expect((await tx2.final()).status).toBe(200);
  });
});
