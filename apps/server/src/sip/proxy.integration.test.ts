/**
 * Calls and messages through a whole Handset over real sockets on 127.0.0.1 (RFC 3261 §16,
 * RFC 7118): parallel forking, CANCEL, Record-Route and in-dialog routing, CDRs, and the
 * refusals a caller must get (404, 480, 403, 407, 483).
 */
import { SipRequest, type SipResponse } from '@handset/sip';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Cdr } from '../proxy/cdr.js';
import { eventually, TestHandset } from './testing/test-handset.js';
import type { TestUa, TestUaOptions, TestUaTransport } from './testing/test-ua.js';

const DOMAIN = 'calls.test';
const OTHER = 'other.test';
const PASSWORD = 'correct-horse-2';

describe('proxy over real sockets', () => {
  let h: TestHandset;
  let next = 1000;
  const opened: TestUa[] = [];
  const cdrs: Cdr[] = [];

  async function newUser(domain = DOMAIN): Promise<string> {
    const ext = String(next++);
    await h.provision(domain, { [ext]: PASSWORD });
    return ext;
  }
  async function ua(
    transport: TestUaTransport,
    ext: string,
    domain = DOMAIN,
    extra: Partial<TestUaOptions> = {},
  ): Promise<TestUa> {
    const u = await h.ua(transport, ext, domain, PASSWORD, { userAgent: `test-${transport}`, ...extra });
    opened.push(u);
    return u;
  }
  /** A registered phone of `ext`. */
  async function phone(transport: TestUaTransport, ext: string, domain = DOMAIN): Promise<TestUa> {
    const u = await ua(transport, ext, domain);
    const res = await u.register({ expires: 300 });
    expect(res.status).toBe(200);
    return u;
  }
  /** A WebSocket caller's answered call to a UDP callee, after which the caller's connection closed. */
  async function answeredCallWithWsCallerGone() {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('ws', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob);
    const ok = await tx.final();
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    await b.waitForRequest('ACK', (r) => r.callId === dialog.callId);
    a.close();
    await eventually(() => h.server.location.lookup(`${alice}@${DOMAIN}`).length === 0, 5000, 'WS binding removal');
    return { alice, a, b, dialog };
  }
  async function cdrOf(callId: string): Promise<Cdr> {
    await eventually(() => cdrs.some((c) => c.callId === callId), 5000, `CDR of ${callId}`);
    return cdrs.find((c) => c.callId === callId)!;
  }

  beforeAll(async () => {
    h = await TestHandset.start({ env: { HANDSET_RING_TIMEOUT_S: '2' } });
    await h.provision(DOMAIN, {});
    await h.provision(OTHER, {});
    h.server.calls.on('ended', (c) => cdrs.push(c));
  }, 60_000);
  afterEach(() => {
    for (const u of opened.splice(0)) u.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a call forks to both contacts; the first to answer gets it, the other is cancelled; ACK and BYE follow the Record-Route', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b1 = await phone('udp', bob);
    const b2 = await phone('tcp', bob);
    b1.invitePolicy = { status: 200, delayMs: 150 };
    b2.invitePolicy = 'ring';

    const tx = await a.invite(bob);
    const [inv1, inv2] = await Promise.all([b1.waitForRequest('INVITE'), b2.waitForRequest('INVITE')]);
    expect(inv1.uri).toBe(b1.contactUri);
    expect(inv2.uri).toBe(b2.contactUri);
    expect(inv1.callId).toBe(tx.request.callId);
    // The callee never sees the caller's credentials, and the proxy added itself.
    expect(inv1.hasHeader('proxy-authorization')).toBe(false);
    expect(inv1.getHeaders('record-route').length).toBeGreaterThanOrEqual(1);
    expect(inv1.maxForwards).toBe(69);

    const ringing = await tx.waitResponse(180);
    expect(ringing.to.params.get('tag')).toBeTruthy();
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const rr = ok.getHeaders('record-route');
    expect(rr.length).toBeGreaterThanOrEqual(1);
    for (const r of rr) expect(r).toMatch(/^<sip:[^@>]+@127\.0\.0\.1:\d+;transport=\w+;lr>$/);
    expect(ok.contacts).not.toBe('*');
    expect((ok.contacts as Array<{ uri: string }>)[0]!.uri).toBe(b1.contactUri);

    const cancel = await b2.waitForRequest('CANCEL');
    expect(cancel.callId).toBe(tx.request.callId);
    await eventually(() => b2.requests('ACK').length > 0, 5000, 'ACK of the 487 on the cancelled branch');
    // Only one final response upstream: no 487 from the cancelled branch leaks to the caller.
    await new Promise((r) => setTimeout(r, 100));
    expect(tx.responses.filter((r) => r.status >= 200).map((r) => r.status)).toEqual([200]);

    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    const ack = await b1.waitForRequest('ACK', (r) => r.callId === dialog.callId);
    expect(ack.uri).toBe(b1.contactUri);
    expect(ack.getHeaders('route')).toEqual([]);
    expect(
      b2.requests('ACK').filter((r) => r.cseq.method === 'ACK' && r.to.params.get('tag') === ok.to.params.get('tag')),
    ).toEqual([]);

    await new Promise((r) => setTimeout(r, 300));
    const bye = await a.bye(dialog);
    expect(bye.status).toBe(200);
    const got = await b1.waitForRequest('BYE', (r) => r.callId === dialog.callId);
    expect(got.from.params.get('tag')).toBe(dialog.localTag);
    expect(b2.requests('BYE')).toEqual([]);

    const cdr = await cdrOf(dialog.callId);
    expect(cdr).toMatchObject({ disposition: 'answered', sipStatus: 200, domain: DOMAIN, hangupBy: 'caller' });
    expect(cdr.caller).toBe(`${alice}@${DOMAIN}`);
    expect(cdr.callee).toBe(`${bob}@${DOMAIN}`);
    expect(cdr.answeredAt).toBeInstanceOf(Date);
    expect(cdr.billableS).toBeGreaterThanOrEqual(0.25);
    expect(cdr.durationS).toBeGreaterThanOrEqual(cdr.billableS);
    expect(cdr.calleeDevice).toContain('test-udp');
    expect(cdr.callerDevice).toContain('test-udp');
  });

  it('a caller CANCEL before the answer ends the call with 487 and a cancelled CDR', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('tcp', bob);
    const tx = await a.invite(bob);
    await tx.waitResponse(180);
    const c = await a.cancel(tx.request).final();
    expect(c.status).toBe(200);
    const final = await tx.final();
    expect(final.status).toBe(487);
    await b.waitForRequest('CANCEL');
    const cdr = await cdrOf(tx.request.callId);
    expect(cdr).toMatchObject({ disposition: 'cancelled', billableS: 0 });
    expect(cdr.answeredAt).toBeUndefined();
  });

  it('a callee answering 486 gives the caller 486 and a busy CDR', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('tcp', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 486 };
    const tx = await a.invite(bob);
    expect((await tx.final()).status).toBe(486);
    const cdr = await cdrOf(tx.request.callId);
    expect(cdr).toMatchObject({ disposition: 'busy', sipStatus: 486 });
  });

  it('a call to an existing user with no registration gets 480', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const tx = await a.invite(bob);
    expect((await tx.final()).status).toBe(480);
    expect((await cdrOf(tx.request.callId)).disposition).toBe('no-answer');
  });

  it('a call to a user that does not exist gets 404', async () => {
    const alice = await newUser();
    const a = await phone('udp', alice);
    const tx = await a.invite('nobody-here');
    expect((await tx.final()).status).toBe(404);
  });

  it('an INVITE without credentials is challenged with 407 and reaches nobody', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await ua('udp', alice);
    const b = await phone('udp', bob);
    const res = await a.sendRequest(a.createRequest('INVITE', { to: bob, body: 'v=0\r\n' })).final();
    expect(res.status).toBe(407);
    const challenge = res.getHeaders('proxy-authenticate');
    expect(challenge.length).toBeGreaterThan(0);
    expect(challenge[0]).toContain(`realm="${DOMAIN}"`);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.requests('INVITE')).toEqual([]);
  });

  it('a retransmitted INVITE without credentials is challenged afresh with nothing held; the ACK for a 407 goes nowhere', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await ua('udp', alice);
    const b = await phone('udp', bob);
    const held = async () => (await h.metric('handset_sip_transactions')) ?? 0;
    const before = await held();
    const req = a.createRequest('INVITE', { to: bob, body: 'v=0\r\n' });
    const tx = a.sendRequest(req);
    const challenge = await tx.final();
    expect(challenge.status).toBe(407);
    // The same datagram again (same branch), as a UA retransmits on Timer A: RFC 3261 §8.2.7, a new challenge.
    a.send(req);
    await tx.waitResponse((r) => r !== challenge);
    const nonces = tx.responses.map((r) => /nonce="([^"]+)"/.exec(r.getHeaders('proxy-authenticate')[0]!)?.[1]);
    expect(tx.responses.map((r) => r.status)).toEqual([407, 407]);
    expect(new Set(nonces).size).toBe(2);
    // Challenges leave no INVITE transaction behind (other tests' transactions may only have ended meanwhile).
    expect(await held()).toBeLessThanOrEqual(before);
    // The caller's ACK for the 407 matches nothing and is not forwarded; the authorized INVITE then rings Bob.
    const ack = new SipRequest('ACK', req.uri); // §17.1.1.3: the INVITE's branch, the 407's To
    ack.appendHeader('Via', req.getHeaders('via')[0]!);
    ack.appendHeader('Max-Forwards', '70');
    ack.appendHeader('From', req.getHeader('from')!);
    ack.appendHeader('To', challenge.getHeader('to')!);
    ack.appendHeader('Call-ID', req.callId);
    ack.appendHeader('CSeq', `${req.cseq.seq} ACK`);
    a.send(ack);
    b.invitePolicy = { status: 200 };
    const authorized = a.withCredentials(req, challenge);
    const call = await a.sendRequest(authorized).final();
    expect(call.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.requests('ACK')).toEqual([]);
    expect(b.requests('INVITE')).toHaveLength(1);
    const dialog = a.dialogFrom(authorized, call);
    a.ack(dialog);
    expect((await a.bye(dialog)).status).toBe(200);
  });

  it('an INVITE with a wrong password is challenged again and reaches nobody', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await ua('udp', alice);
    const b = await phone('udp', bob);
    const req = a.createRequest('INVITE', { to: bob, body: 'v=0\r\n' });
    const first = await a.sendRequest(req).final();
    const res = await a.sendRequest(a.withCredentials(req, first, { password: 'wrong' })).final();
    expect(res.status).toBe(407);
    expect(b.requests('INVITE')).toEqual([]);
  });

  it("a call to another tenant's user is refused with 403", async () => {
    const alice = await newUser();
    const carol = await newUser(OTHER);
    const a = await phone('udp', alice);
    const c = await phone('udp', carol, OTHER);
    const tx = await a.invite(`sip:${carol}@${OTHER}`);
    expect((await tx.final()).status).toBe(403);
    expect(c.requests('INVITE')).toEqual([]);
  });

  it('Max-Forwards 0 gets 483 Too Many Hops', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    const res = await a.sendRequest(a.createRequest('INVITE', { to: bob, maxForwards: 0, body: 'v=0\r\n' })).final();
    expect(res.status).toBe(483);
    expect(b.requests('INVITE')).toEqual([]);
  });

  it("a WebSocket caller reaches a UDP callee, and the callee's BYE comes back over the WebSocket", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('ws', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    // RFC 5658 / RFC 7118: crossing transports, the proxy records a route for each side.
    const rr = ok.getHeaders('record-route');
    expect(rr).toHaveLength(2);
    expect(rr.some((r) => r.includes('transport=ws'))).toBe(true);
    expect(rr.some((r) => r.includes('transport=udp'))).toBe(true);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    await b.waitForRequest('ACK', (r) => r.callId === dialog.callId);

    const callee = b.calls.get(dialog.callId)!.dialog!;
    expect(callee.remoteTarget).toBe(a.contactUri);
    const bye = await b.bye(callee);
    expect(bye.status).toBe(200);
    const got = await a.waitForRequest('BYE', (r) => r.callId === dialog.callId);
    expect(got.uri).toBe(a.contactUri);
    const cdr = await cdrOf(dialog.callId);
    expect(cdr).toMatchObject({ disposition: 'answered', hangupBy: 'callee' });
  });

  it('a UDP caller reaches a WebSocket callee over its connection, and the WebSocket side hangs up', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('ws', bob);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob);
    const inv = await b.waitForRequest('INVITE');
    expect(inv.uri).toBe(b.contactUri);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    await b.waitForRequest('ACK', (r) => r.callId === dialog.callId);
    const bye = await b.bye(b.calls.get(dialog.callId)!.dialog!);
    expect(bye.status).toBe(200);
    await a.waitForRequest('BYE', (r) => r.callId === dialog.callId);
  });

  it('a MESSAGE reaches the other user with its body, and the sender gets 200', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('tcp', alice);
    const b = await phone('ws', bob);
    const req = a.createRequest('MESSAGE', { to: bob, body: 'lunch at 12?', contentType: 'text/plain' });
    const { response } = await a.request(req);
    expect(response.status).toBe(200);
    const got = await b.waitForRequest('MESSAGE');
    expect(got.body.toString()).toBe('lunch at 12?');
    expect(got.getHeader('content-type')).toBe('text/plain');
    expect(got.from.uri).toBe(a.aor);
    expect(got.hasHeader('proxy-authorization')).toBe(false);
  });

  it('OPTIONS to the server itself gets 200 with Allow, without authentication', async () => {
    const a = await ua('udp', 'anyone');
    const res = await a
      .sendRequest(a.createRequest('OPTIONS', { uri: `sip:127.0.0.1:${h.server.sipPorts.udp}`, to: `sip:127.0.0.1` }))
      .final();
    expect(res.status).toBe(200);
    expect(res.getHeader('allow')).toContain('INVITE');
  });

  it('a call to a user whose only client was a closed WebSocket gets 480', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('ws', bob);
    b.close();
    await eventually(() => h.server.location.lookup(`${bob}@${DOMAIN}`).length === 0, 5000, 'WS binding removal');
    const tx = await a.invite(bob);
    expect((await tx.final()).status).toBe(480);
  });

  it('a BYE for a dialog that was never routed here is refused, not forwarded', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    const req = a.createRequest('BYE', { to: bob });
    req.setHeader('To', `<sip:${bob}@${DOMAIN}>;tag=nosuchdialog`);
    const res = await a.sendRequest(req).final();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(b.requests('BYE')).toEqual([]);
  });
  it('a re-INVITE and its ACK inside the dialog reach the other side through the proxy', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('tcp', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(bob);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    await b.waitForRequest('ACK', (r) => r.callId === dialog.callId);

    const reinvite = a.inDialog(dialog, 'INVITE', { body: 'v=0\r\n', contentType: 'application/sdp' });
    const res = await a.sendRequest(reinvite).final();
    expect(res.status).toBe(200);
    const got = await b.waitForRequest('INVITE', (r) => r.callId === dialog.callId && r.to.params.has('tag'));
    expect(got.cseq.seq).toBe(reinvite.cseq.seq);
    const ack = a.inDialog(dialog, 'ACK');
    ack.setHeader('CSeq', `${reinvite.cseq.seq} ACK`);
    a.send(ack);
    await eventually(
      () => b.requests('ACK').filter((r) => r.callId === dialog.callId).length === 2,
      5000,
      'ACK of the re-INVITE',
    );
    expect((await a.bye(dialog)).status).toBe(200);
    expect((await cdrOf(dialog.callId)).disposition).toBe('answered');
  });

  it('a MESSAGE to a user with two devices reaches both, and the sender gets exactly one 200', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b1 = await phone('udp', bob);
    const b2 = await phone('tcp', bob);
    const { request, response } = await a.request(a.createRequest('MESSAGE', { to: bob, body: 'hi both' }));
    expect(response.status).toBe(200);
    await Promise.all([b1.waitForRequest('MESSAGE'), b2.waitForRequest('MESSAGE')]);
    await new Promise((r) => setTimeout(r, 150));
    const finals = a.received.filter(
      (m) =>
        !m.isRequest() &&
        m.callId === request.callId &&
        (m as SipResponse).status >= 200 &&
        m.cseq.seq === request.cseq.seq,
    );
    expect(finals).toHaveLength(1);
  });

  it('a MESSAGE to a user with no device gets 480', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const { response } = await a.request(a.createRequest('MESSAGE', { to: bob, body: 'anyone?' }));
    expect(response.status).toBe(480);
  });

  it('an unanswered call is ended after the ring timeout: 480 to the caller, CANCEL to the callee, a no-answer CDR', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    const tx = await a.invite(bob);
    await tx.waitResponse(180);
    const final = await tx.final(6000);
    expect(final.status).toBe(480);
    await b.waitForRequest('CANCEL');
    const cdr = await cdrOf(tx.request.callId);
    expect(cdr).toMatchObject({ disposition: 'no-answer', billableS: 0 });
    expect(cdr.durationS).toBeGreaterThanOrEqual(1.9);
  });

  it('a retransmitted INVITE is absorbed by the proxy: the callee sees it once', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    const tx = await a.invite(bob);
    await tx.waitResponse(180);
    a.send(tx.request); // same branch: a retransmission
    await new Promise((r) => setTimeout(r, 200));
    expect(b.requests('INVITE').filter((r) => r.callId === tx.request.callId)).toHaveLength(1);
    expect((await a.cancel(tx.request).final()).status).toBe(200);
    expect((await tx.final()).status).toBe(487);
  });

  it('a call to a TCP phone whose connection is gone fails fast instead of ringing forever', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('tcp', bob);
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    const tx = await a.invite(bob);
    const final = await tx.final();
    expect(final.status).toBe(480);
    expect(final.reason).not.toBe('No Answer'); // refused connection, not the ring timeout
    expect(final.to.params.get('tag')).toBeTruthy();
    expect((await cdrOf(tx.request.callId)).disposition).toBe('no-answer');
  });

  it("when the WebSocket caller is gone, the callee's BYE is answered and the call still gets its CDR", async () => {
    const { b, dialog } = await answeredCallWithWsCallerGone();

    const bye = await b.bye(b.calls.get(dialog.callId)!.dialog!);
    expect(bye.status).toBe(430); // RFC 5626 §5.3 Flow Failed
    const cdr = await cdrOf(dialog.callId);
    expect(cdr).toMatchObject({ disposition: 'answered', hangupBy: 'callee' });
  });
  it('a WebSocket client that reconnects and registers its Contact again still gets the BYE of its call', async () => {
    const { alice, a, b, dialog } = await answeredCallWithWsCallerGone();

    // The same client (same .invalid Contact) on a new connection, as JsSIP after a network change.
    const again = await ua('ws', alice, DOMAIN, { wsHost: /@([^;>]+)/.exec(a.contactUri)![1] });
    expect(again.contactUri).toBe(a.contactUri);
    expect((await again.register({ expires: 300 })).status).toBe(200);
    const bye = await b.bye(b.calls.get(dialog.callId)!.dialog!);
    const got = await again.waitForRequest('BYE', (r) => r.callId === dialog.callId);
    expect(got.uri).toBe(a.contactUri);
    // The test UA answers in-dialog requests itself; the callee gets that 200 back.
    expect(bye.status).toBe(200);
  });

  it('a reconnected client with another Contact does not receive an old dialog: 430 Flow Failed', async () => {
    const { alice, b, dialog } = await answeredCallWithWsCallerGone();
    await phone('ws', alice);
    const bye = await b.bye(b.calls.get(dialog.callId)!.dialog!);
    expect(bye.status).toBe(430);
  });

  it("a caller authenticated as one user cannot call with another user's From", async () => {
    const [alice, mallory, bob] = [await newUser(), await newUser(), await newUser()];
    const m = await ua('udp', mallory);
    const b = await phone('udp', bob);
    const req = m.createRequest('INVITE', { to: bob, body: 'v=0\r\n' });
    req.setHeader('From', `<sip:${alice}@${DOMAIN}>;tag=spoof`);
    const { response } = await m.request(req); // answers the 407 with mallory's own credentials
    expect([403, 407]).toContain(response.status);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.requests('INVITE')).toEqual([]);
  });

  it("dialling a user at the server address (sip:ext@127.0.0.1) reaches the user of the caller's domain", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 200 };
    const tx = await a.invite(`sip:${bob}@127.0.0.1:${h.server.sipPorts.udp}`);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    expect((await a.bye(dialog)).status).toBe(200);
    await b.waitForRequest('BYE');
  });

  it('/metrics counts finished calls by disposition', async () => {
    const before = (await h.metric('handset_calls_total{disposition="busy"}')) ?? 0;
    const [alice, bob] = [await newUser(), await newUser()];
    const a = await phone('udp', alice);
    const b = await phone('udp', bob);
    b.invitePolicy = { status: 486 };
    expect((await (await a.invite(bob)).final()).status).toBe(486);
    await eventually(
      async () => (await h.metric('handset_calls_total{disposition="busy"}')) === before + 1,
      5000,
      'busy counted',
    );
  });
  it('after all these calls no call is left open (every attempt got its CDR)', async () => {
    await eventually(() => h.server.calls.active === 0, 5000, 'no active calls');
    expect(await h.metric('handset_calls_active')).toBe(0);
    expect(new Set(cdrs.map((c) => c.callId)).size).toBe(cdrs.length); // one CDR per attempt
  });
});
