import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import { createEndpointHarness, requestText, settle, testRequest } from '../testing/endpoint-harness.js';
import type { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { TransactionError } from './transaction-error.js';
import { TransactionLayer } from './transaction-layer.js';
import { TransactionState } from './transaction-state.js';

const register = (transport = 'UDP') =>
  requestText('REGISTER', { transport, branch: 'z9hG4bK-reg-1', uri: 'sip:example.com' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServerNonInviteTransaction over UDP', () => {
  it('absorbs retransmissions in Trying, resends the provisional in Proceeding and the final in Completed', async () => {
    const h = createEndpointHarness();
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    expect(txn.state).toBe(TransactionState.Trying);

    await h.peer.send(register(), h.toEndpoint);
    await settle();
    expect(h.peer.responses()).toHaveLength(0);
    expect(h.user.transactions).toHaveLength(1);

    txn.respond(createResponse(txn.request, 100));
    expect(txn.state).toBe(TransactionState.Proceeding);
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([100, 100]);

    txn.respond(
      createResponse(txn.request, 401, {
        toTag: 'srv',
        headers: [['WWW-Authenticate', 'Digest realm="example.com", nonce="n"']],
      }),
    );
    expect(txn.state).toBe(TransactionState.Completed);
    expect(txn.lastResponse?.status).toBe(401);
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([100, 100, 401, 401]);
    expect(h.peer.responses(401)[1]!.getHeader('www-authenticate')).toBe('Digest realm="example.com", nonce="n"');
    expect(h.user.transactions).toHaveLength(1);
    expect(() => txn.respond(createResponse(txn.request, 200, { toTag: 'srv' }))).toThrow(TransactionError);
  });

  it('never retransmits a response on its own and ends on Timer J (64*T1)', async () => {
    const h = createEndpointHarness();
    h.user.answer = (t) => t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    await h.peer.send(register(), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.peer.responses()).toHaveLength(1);
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Completed);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Terminated);
    // After Timer J the same request is new to the layer.
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
  });
});

describe('ServerNonInviteTransaction answering statelessly (RFC 3261 §8.2.7)', () => {
  const challenge = (t: ServerNonInviteTransaction, nonce: string) =>
    createResponse(t.request, 401, {
      toTag: 'srv',
      headers: [['WWW-Authenticate', `Digest realm="example.com", nonce="${nonce}"`]],
    });

  it('sends the challenge and ends at once: nothing held, no timer, a retransmission is processed again', async () => {
    const h = createEndpointHarness();
    let terminated = 0;
    let nonce = 0;
    h.user.answer = (t) => {
      t.delegate = { onTerminated: () => terminated++ };
      (t as ServerNonInviteTransaction).respondStateless(challenge(t as ServerNonInviteTransaction, `n${++nonce}`));
    };
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    const first = h.user.transactions[0]!;
    expect(first.state).toBe(TransactionState.Terminated);
    expect(terminated).toBe(1);
    expect(h.endpoint.layer.serverCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(h.peer.responses(401)[0]!.getHeader('www-authenticate')).toBe('Digest realm="example.com", nonce="n1"');

    // The retransmission (same branch) is a new request to the layer and gets a regenerated challenge.
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
    expect(h.peer.responses(401).map((r) => r.getHeader('www-authenticate'))).toEqual([
      'Digest realm="example.com", nonce="n1"',
      'Digest realm="example.com", nonce="n2"',
    ]);
    expect(h.endpoint.layer.stats.retransmissionsAbsorbed).toBe(0);
    expect(() => first.respond(createResponse(first.request, 200, { toTag: 'srv' }))).toThrow(TransactionError);
  });

  it('is for final responses only, and not after a final response was sent', async () => {
    const h = createEndpointHarness();
    await h.peer.send(register(), h.toEndpoint);
    await settle();
    const t = h.user.transactions[0]! as ServerNonInviteTransaction;
    expect(() => t.respondStateless(createResponse(t.request, 100))).toThrow(TransactionError);
    expect(t.state).toBe(TransactionState.Trying);
    t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    expect(() => t.respondStateless(challenge(t, 'late'))).toThrow(TransactionError);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([200]);
  });
});

describe('ServerNonInviteTransaction over TCP', () => {
  it('terminates as soon as the final response is sent (Timer J = 0) and answers over the arrival connection', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    let terminated = 0;
    h.user.answer = (t) => {
      t.delegate = { onTerminated: () => terminated++ };
      t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    };
    const flow = await h.peer.send(register('TCP'), h.toEndpoint);
    await settle();
    expect(terminated).toBe(1);
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.serverCount).toBe(0);
    expect(h.peer.received.map((r) => r.flow.id)).toEqual([flow.id]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells the TU when the connection is gone before it answers, and opens no new connection', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const flow = await h.peer.send(register('TCP'), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    const errors: Error[] = [];
    txn.delegate = { onTransportError: (_t, e) => errors.push(e) };
    h.peerTransport.closeFlow(flow.id);
    txn.respond(createResponse(txn.request, 200, { toTag: 'srv' }));
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/closed/);
    expect(h.peerTransport.flowCount).toBe(0);
    expect(h.peer.responses()).toHaveLength(0);
    expect(h.endpoint.stats.sendFailures).toBe(1);
  });
});

describe('Completed non-INVITE transactions held by the layer (RFC 3261 §17.2.2)', () => {
  const registerBranch = (branch: string) =>
    requestText('REGISTER', { transport: 'UDP', branch, uri: 'sip:example.com' });

  it('answers retransmissions from the layer until each one’s own Timer J, with one timer for all', async () => {
    const h = createEndpointHarness();
    h.user.answer = (t) => t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    await h.peer.send(registerBranch('z9hG4bK-one'), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(10_000);
    await h.peer.send(registerBranch('z9hG4bK-two'), h.toEndpoint);
    await settle();
    // The TU let go of nothing here (the harness records them), but the layer needs no timer per transaction.
    expect(h.endpoint.layer.serverCount).toBe(2);
    expect(vi.getTimerCount()).toBe(1);

    // At 31.9 s the first is still Completed: its retransmission gets the 200 again, no new transaction.
    await vi.advanceTimersByTimeAsync(21_900);
    await h.peer.send(registerBranch('z9hG4bK-one'), h.toEndpoint);
    await settle();
    expect(h.peer.responses(200)).toHaveLength(3);
    expect(h.user.transactions).toHaveLength(2);

    // Past 32 s from its start the first has ended; the second (started 10 s later) has not.
    await vi.advanceTimersByTimeAsync(200);
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Terminated);
    expect(h.user.transactions[1]!.state).toBe(TransactionState.Completed);
    expect(h.endpoint.layer.serverCount).toBe(1);
    await h.peer.send(registerBranch('z9hG4bK-two'), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
    expect(h.peer.responses(200)).toHaveLength(4);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.user.transactions[1]!.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.serverCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells a TU that asked for it when Timer J ends the transaction', async () => {
    const h = createEndpointHarness();
    const ended: number[] = [];
    h.user.answer = (t) => {
      t.delegate = { onTerminated: () => ended.push(Date.now()) };
      t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    };
    const start = Date.now();
    await h.peer.send(registerBranch('z9hG4bK-told'), h.toEndpoint);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ended).toHaveLength(1);
    expect(ended[0]! - start).toBe(32_000);
  });

  it('ends the transaction and tells the TU when resending the final response fails', async () => {
    let failSends = false;
    const flow = {
      id: 'udp:1',
      protocol: 'udp' as const,
      reliable: false,
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '127.0.0.2', port: 5060 },
    };
    const errors: string[] = [];
    const terminated: string[] = [];
    const layer = new TransactionLayer({
      send: () => (failSends ? Promise.reject(new Error('host unreachable')) : Promise.resolve(flow)),
      tu: {
        onRequest: (t) => {
          t.delegate = {
            onTransportError: (_t, e) => errors.push(e.message),
            onTerminated: () => terminated.push('x'),
          };
          t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
        },
        onAck: () => {},
        onStrayResponse: () => {},
      },
    });
    layer.receiveRequest(testRequest('REGISTER', { branch: 'z9hG4bK-fail' }), flow);
    expect(layer.serverCount).toBe(1);
    failSends = true;
    layer.receiveRequest(testRequest('REGISTER', { branch: 'z9hG4bK-fail' }), flow);
    await settle();
    expect(errors).toEqual(['host unreachable']);
    expect(terminated).toHaveLength(1);
    expect(layer.serverCount).toBe(0);
    layer.close();
  });

  it('close() ends the held transactions without callbacks and clears the timer', async () => {
    const h = createEndpointHarness();
    let callbacks = 0;
    h.user.answer = (t) => {
      t.delegate = { onTerminated: () => callbacks++ };
      t.respond(createResponse(t.request, 200, { toTag: 'srv' }));
    };
    await h.peer.send(registerBranch('z9hG4bK-close'), h.toEndpoint);
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    h.endpoint.layer.close();
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Terminated);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(callbacks).toBe(0);
  });
});
