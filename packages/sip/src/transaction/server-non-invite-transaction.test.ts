import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import { createEndpointHarness, requestText, settle } from '../testing/endpoint-harness.js';
import { TransactionError } from './transaction-error.js';
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
