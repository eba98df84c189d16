import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import type { SipResponse } from '../message.js';
import { createEndpointHarness, settle, testRequest } from '../testing/endpoint-harness.js';
import type { ClientTransactionHandler } from './client-transaction.js';
import { TransactionState } from './transaction-state.js';

class Recorder implements ClientTransactionHandler {
  readonly responses: SipResponse[] = [];
  timeouts = 0;
  errors = 0;
  onResponse(response: SipResponse): void {
    this.responses.push(response);
  }
  onTimeout(): void {
    this.timeouts++;
  }
  onTransportError(): void {
    this.errors++;
  }
}

const options = (transport = 'UDP') =>
  testRequest('OPTIONS', { transport, sentBy: '127.0.0.1:5060', branch: 'z9hG4bK-opt-1' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ClientNonInviteTransaction over UDP', () => {
  it('retransmits on Timer E doubling up to T2 and reports a timeout on Timer F (64*T1)', async () => {
    const h = createEndpointHarness();
    const start = Date.now();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(options(), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.peer.times((m) => m.isRequest()).map((t) => t - start)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(recorder.timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(recorder.timeouts).toBe(1);
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.clientCount).toBe(0);
  });

  it('retransmits every T2 once a provisional response arrived, and still times out on Timer F', async () => {
    const h = createEndpointHarness();
    const start = Date.now();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(options(), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(600);
    await h.peer.send(createResponse(h.peer.requests()[0]!, 100), h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Proceeding);
    await vi.advanceTimersByTimeAsync(32_000 - 600);
    expect(h.peer.times((m) => m.isRequest()).map((t) => t - start)).toEqual([
      0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500,
    ]);
    expect(recorder.timeouts).toBe(1);
    expect(recorder.responses.map((r) => r.status)).toEqual([100]);
  });

  it('passes the final response up once, absorbs retransmissions and ends after Timer K (T4)', async () => {
    const h = createEndpointHarness();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(options(), h.toPeer, recorder);
    await settle();
    const ok = createResponse(h.peer.requests()[0]!, 200, { toTag: 't' });
    await h.peer.send(ok, h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Completed);
    await h.peer.send(ok, h.toEndpoint);
    await settle();
    expect(recorder.responses).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.peer.requests()).toHaveLength(1);
    // Timer K (T4 = 5 s) has long fired.
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.clientCount).toBe(0);
  });

  it('ends exactly at Timer K with a configured T4', async () => {
    const h = createEndpointHarness({ t4: 2000 });
    const txn = h.endpoint.sendRequest(options(), h.toPeer, new Recorder());
    await settle();
    await h.peer.send(createResponse(h.peer.requests()[0]!, 404, { toTag: 't' }), h.toEndpoint);
    await settle();
    await vi.advanceTimersByTimeAsync(1999);
    expect(txn.state).toBe(TransactionState.Completed);
    await vi.advanceTimersByTimeAsync(1);
    expect(txn.state).toBe(TransactionState.Terminated);
  });

  it('matches responses on branch and CSeq method: a response for another method is stray', async () => {
    const h = createEndpointHarness();
    const recorder = new Recorder();
    h.endpoint.sendRequest(options(), h.toPeer, recorder);
    await settle();
    const sent = h.peer.requests()[0]!;
    const wrongMethod = createResponse(sent, 200, { toTag: 't' });
    wrongMethod.setHeader('CSeq', '1 INVITE');
    await h.peer.send(wrongMethod, h.toEndpoint);
    await settle();
    expect(recorder.responses).toHaveLength(0);
    expect(h.user.strays).toHaveLength(1);
  });
});

describe('ClientNonInviteTransaction over TCP', () => {
  it('never retransmits, times out on Timer F', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const recorder = new Recorder();
    h.endpoint.sendRequest(options('TCP'), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(32_000);
    expect(h.peer.requests()).toHaveLength(1);
    expect(recorder.timeouts).toBe(1);
  });

  it('terminates as soon as the final response arrives (Timer K = 0)', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(options('TCP'), h.toPeer, recorder);
    await settle();
    const arrival = h.peer.received[0]!;
    await h.peer.send(createResponse(h.peer.requests()[0]!, 200, { toTag: 't' }), {
      ...h.toEndpoint,
      flowId: arrival.flow.id,
    });
    await settle();
    expect(recorder.responses.map((r) => r.status)).toEqual([200]);
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(vi.getTimerCount()).toBe(0);
  });
});
