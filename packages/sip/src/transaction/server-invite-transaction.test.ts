import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import type { SipResponse } from '../message.js';
import { createEndpointHarness, requestText, settle } from '../testing/endpoint-harness.js';
import type { ServerInviteTransaction } from './server-invite-transaction.js';
import type { ServerTransaction } from './server-transaction.js';
import { TransactionError } from './transaction-error.js';
import { TransactionState } from './transaction-state.js';

const invite = (transport = 'UDP') => requestText('INVITE', { transport, branch: 'z9hG4bK-inv-1' });
const ackFor = (transport = 'UDP', toTag = 'srv', branch = 'z9hG4bK-inv-1') =>
  requestText('ACK', { transport, branch, toTag });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServerInviteTransaction over UDP', () => {
  it('sends 100 Trying after 200 ms when the TU has not answered', async () => {
    const h = createEndpointHarness();
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(199);
    expect(h.peer.responses()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const trying = h.peer.responses(100);
    expect(trying).toHaveLength(1);
    expect(trying[0]!.to.params.has('tag')).toBe(false);
    expect(trying[0]!.topVia.params.get('branch')).toBe('z9hG4bK-inv-1');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.peer.responses()).toHaveLength(1);
  });

  it('sends no 100 Trying when the TU answers within 200 ms', async () => {
    const h = createEndpointHarness();
    h.user.answer = (t) => setTimeout(() => t.respond(createResponse(t.request, 180, { toTag: 'srv' })), 150);
    await h.peer.send(invite(), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.peer.responses().map((r) => r.status)).toEqual([180]);
  });

  it('resends the latest provisional response when the INVITE is retransmitted, without bothering the TU', async () => {
    const h = createEndpointHarness();
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    txn.respond(createResponse(txn.request, 180, { toTag: 'srv' }));
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([180, 180]);
    expect(h.user.transactions).toHaveLength(1);
    expect(h.endpoint.layer.stats.retransmissionsAbsorbed).toBe(1);
  });

  it('retransmits a non-2xx final response on Timer G (T1 doubling, capped at T2) until the ACK, then absorbs for Timer I (T4)', async () => {
    const h = createEndpointHarness();
    const start = Date.now();
    h.user.answer = (t) => t.respond(createResponse(t.request, 486, { toTag: 'srv' }));
    await h.peer.send(invite(), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(h.peer.times((m) => !m.isRequest()).map((t) => t - start)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    const txn = h.user.transactions[0]!;
    expect(txn.state).toBe(TransactionState.Completed);

    // An INVITE retransmission in Completed gets the final response again.
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(h.peer.responses(486)).toHaveLength(7);

    await h.peer.send(ackFor(), h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Confirmed);
    expect(h.user.acks).toHaveLength(0);
    await h.peer.send(ackFor(), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.peer.responses(486)).toHaveLength(7);
    expect(h.user.acks).toHaveLength(0);
    expect(txn.state).toBe(TransactionState.Confirmed);
    await vi.advanceTimersByTimeAsync(1);
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.serverCount).toBe(0);
  });

  it('gives up on Timer H (64*T1) when no ACK comes and tells the TU', async () => {
    const h = createEndpointHarness();
    const start = Date.now();
    let timeouts = 0;
    let terminated = 0;
    h.user.answer = (t) => {
      t.delegate = { onTimeout: () => timeouts++, onTerminated: () => terminated++ };
      t.respond(createResponse(t.request, 603, { toTag: 'srv' }));
    };
    await h.peer.send(invite(), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(timeouts).toBe(1);
    expect(terminated).toBe(1);
    expect(h.peer.times((m) => !m.isRequest()).map((t) => t - start)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Terminated);
    expect(h.user.transactions[0]!.timedOut).toBe(true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.peer.responses()).toHaveLength(11);
  });

  it("RFC 6026: after a 2xx it is Accepted, absorbs INVITE retransmissions, sends the TU's 2xx retransmissions, passes ACKs up, ends on Timer L", async () => {
    const h = createEndpointHarness();
    let txn: ServerTransaction | undefined;
    h.user.answer = (t) => {
      txn = t;
      t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    };
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(txn!.state).toBe(TransactionState.Accepted);
    await vi.advanceTimersByTimeAsync(10_000);
    // The transaction itself never retransmits a 2xx (that is the TU's job).
    expect(h.peer.responses(200)).toHaveLength(1);

    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(h.peer.responses(200)).toHaveLength(1);
    expect(h.user.transactions).toHaveLength(1);

    txn!.respond(txn!.lastResponse!);
    await settle();
    expect(h.peer.responses(200)).toHaveLength(2);
    expect(() => txn!.respond(createResponse(txn!.request, 500, { toTag: 'srv' }))).toThrow(TransactionError);

    // The 2xx ACK is a transaction of its own (new branch); one reusing the INVITE branch matches and is passed up too.
    await h.peer.send(ackFor('UDP', 'srv', 'z9hG4bK-ack-2xx'), h.toEndpoint);
    await h.peer.send(ackFor('UDP', 'srv', 'z9hG4bK-inv-1'), h.toEndpoint);
    await settle();
    expect(h.user.acks.map((a) => a.ack.topVia.params.get('branch'))).toEqual(['z9hG4bK-ack-2xx', 'z9hG4bK-inv-1']);

    await vi.advanceTimersByTimeAsync(32_000 - 10_000 - 1);
    expect(txn!.state).toBe(TransactionState.Accepted);
    await vi.advanceTimersByTimeAsync(1);
    expect(txn!.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.serverCount).toBe(0);
  });

  it('refuses a response once a non-2xx final response was sent', async () => {
    const h = createEndpointHarness();
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    txn.respond(createResponse(txn.request, 486, { toTag: 'srv' }));
    const err = (() => {
      try {
        txn.respond(createResponse(txn.request, 200, { toTag: 'srv' }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TransactionError);
    expect((err as TransactionError).code).toBe('INVALID_STATE');
  });
});

describe('ServerInviteTransaction.respondStateless (RFC 3261 §8.2.7)', () => {
  const challenge = (t: ServerTransaction, nonce: string): SipResponse =>
    createResponse(t.request, 407, {
      toTag: 'auth',
      headers: [['Proxy-Authenticate', `Digest realm="example.com", nonce="${nonce}"`]],
    });

  it('sends a challenge once and keeps nothing: no Timer G, no Timer H, a retransmission is a new request', async () => {
    const h = createEndpointHarness();
    let nonce = 0;
    let terminated = 0;
    h.user.answer = (t) => {
      t.delegate = { onTerminated: () => terminated++ };
      (t as ServerInviteTransaction).respondStateless(challenge(t, `n${++nonce}`));
    };
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    const first = h.user.transactions[0]!;
    expect(first.state).toBe(TransactionState.Terminated);
    expect(terminated).toBe(1);
    expect(h.endpoint.layer.serverCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(h.peer.responses().map((r) => r.status)).toEqual([407]);

    // The ACK for it matches no transaction: the TU gets it as an ACK without one (and drops it).
    await h.peer.send(ackFor('UDP', 'auth'), h.toEndpoint);
    await settle();
    expect(h.user.acks).toHaveLength(1);

    // A retransmitted INVITE (same branch) is processed again and challenged with a fresh nonce.
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
    expect(h.peer.responses(407).map((r) => r.getHeader('proxy-authenticate'))).toEqual([
      'Digest realm="example.com", nonce="n1"',
      'Digest realm="example.com", nonce="n2"',
    ]);
    expect(h.endpoint.layer.stats.retransmissionsAbsorbed).toBe(0);
  });

  it('is for 300-699 only, and not after a final response', async () => {
    const h = createEndpointHarness();
    await h.peer.send(invite(), h.toEndpoint);
    await settle();
    const t = h.user.transactions[0]! as ServerInviteTransaction;
    expect(() => t.respondStateless(createResponse(t.request, 180, { toTag: 'srv' }))).toThrow(TransactionError);
    expect(() => t.respondStateless(createResponse(t.request, 200, { toTag: 'srv' }))).toThrow(TransactionError);
    expect(t.state).toBe(TransactionState.Proceeding);
    t.respond(createResponse(t.request, 486, { toTag: 'srv' }));
    expect(() => t.respondStateless(challenge(t, 'late'))).toThrow(TransactionError);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([486]);
  });
});

describe('ServerInviteTransaction over TCP', () => {
  it('does not retransmit the final response, and terminates on the ACK (Timer I = 0)', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    h.user.answer = (t) => t.respond(createResponse(t.request, 486, { toTag: 'srv' }));
    const flow = await h.peer.send(invite('TCP'), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.peer.responses()).toHaveLength(1);
    const txn = h.user.transactions[0]!;
    expect(txn.state).toBe(TransactionState.Completed);
    await h.peer.send(ackFor('TCP'), { ...h.toEndpoint, flowId: flow.id });
    await settle();
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still ends on Timer H without an ACK', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    let timeouts = 0;
    h.user.answer = (t) => {
      t.delegate = { onTimeout: () => timeouts++ };
      t.respond(createResponse(t.request, 486, { toTag: 'srv' }));
    };
    await h.peer.send(invite('TCP'), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(32_000);
    expect(timeouts).toBe(1);
    expect(h.peer.responses()).toHaveLength(1);
  });

  it('sends 100 Trying over the connection the INVITE came on', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const flow = await h.peer.send(invite('TCP'), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(200);
    const arrival = h.peer.received.find((r) => !r.message.isRequest());
    expect((arrival?.message as SipResponse | undefined)?.status).toBe(100);
    expect(arrival?.flow.id).toBe(flow.id);
  });
});
