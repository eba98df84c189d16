import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import type { SipRequest, SipResponse } from '../message.js';
import { createEndpointHarness, settle, testRequest } from '../testing/endpoint-harness.js';
import type { ClientTransaction, ClientTransactionHandler } from './client-transaction.js';
import { TransactionState } from './transaction-state.js';

class Recorder implements ClientTransactionHandler {
  readonly responses: SipResponse[] = [];
  timeouts = 0;
  readonly errors: Error[] = [];
  terminated = 0;
  onResponse(response: SipResponse): void {
    this.responses.push(response);
  }
  onTimeout(): void {
    this.timeouts++;
  }
  onTransportError(_t: ClientTransaction, error: Error): void {
    this.errors.push(error);
  }
  onTerminated(): void {
    this.terminated++;
  }
}

function outgoingInvite(transport = 'UDP'): SipRequest {
  return testRequest('INVITE', {
    transport,
    sentBy: '127.0.0.1:5060',
    branch: 'z9hG4bK-out-1',
    headers: ['Route: <sip:edge.example.com;lr>', 'Contact: <sip:alice@127.0.0.1>'],
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ClientInviteTransaction over UDP', () => {
  it('retransmits the INVITE on Timer A (T1, doubling) and reports a timeout on Timer B (64*T1)', async () => {
    const h = createEndpointHarness();
    const start = Date.now();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(outgoingInvite(), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.peer.times((m) => m.isRequest()).map((t) => t - start)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(recorder.timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(recorder.timeouts).toBe(1);
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(recorder.terminated).toBe(1);
    expect(h.endpoint.layer.clientCount).toBe(0);
    expect(h.endpoint.layer.stats.timeouts).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.peer.requests('INVITE')).toHaveLength(7);
  });

  it('honours a configured T1', async () => {
    const h = createEndpointHarness({ t1: 100 });
    const start = Date.now();
    const recorder = new Recorder();
    h.endpoint.sendRequest(outgoingInvite(), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(h.peer.times((m) => m.isRequest()).map((t) => t - start)).toEqual([0, 100, 300, 700, 1500, 3100, 6300]);
    expect(recorder.timeouts).toBe(1);
  });

  it('stops retransmitting on a provisional response and does not time out in Proceeding', async () => {
    const h = createEndpointHarness();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(outgoingInvite(), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(600);
    const invite = h.peer.requests('INVITE')[0]!;
    await h.peer.send(createResponse(invite, 180, { toTag: 'bob-1' }), h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Proceeding);
    expect(recorder.responses.map((r) => r.status)).toEqual([180]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.peer.requests('INVITE')).toHaveLength(2);
    expect(recorder.timeouts).toBe(0);
    expect(txn.state).toBe(TransactionState.Proceeding);
  });

  it('acknowledges a non-2xx final response hop by hop and absorbs its retransmissions until Timer D (32 s)', async () => {
    const h = createEndpointHarness();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(outgoingInvite(), h.toPeer, recorder);
    await settle();
    const invite = h.peer.requests('INVITE')[0]!;
    const busy = createResponse(invite, 486, { toTag: 'bob-busy' });
    await h.peer.send(busy, h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Completed);
    expect(recorder.responses.map((r) => r.status)).toEqual([486]);

    const acks = h.peer.requests('ACK');
    expect(acks).toHaveLength(1);
    const ack = acks[0]!;
    // RFC 3261 §17.1.1.3
    expect(ack.uri).toBe(invite.uri);
    expect(ack.getHeaders('via')).toEqual([invite.getHeaders('via')[0]]);
    expect(ack.topVia.params.get('branch')).toBe('z9hG4bK-out-1');
    expect(ack.to.params.get('tag')).toBe('bob-busy');
    expect(ack.from.params.get('tag')).toBe('alice-1');
    expect(ack.callId).toBe(invite.callId);
    expect(ack.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.getHeaders('route')).toEqual(['<sip:edge.example.com;lr>']);
    expect(ack.hasHeader('contact')).toBe(false);

    await vi.advanceTimersByTimeAsync(10_000);
    await h.peer.send(busy, h.toEndpoint);
    await settle();
    expect(h.peer.requests('ACK')).toHaveLength(2);
    expect(recorder.responses).toHaveLength(1);
    expect(h.peer.requests('INVITE')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(22_000);
    expect(txn.state).toBe(TransactionState.Terminated);
    await h.peer.send(busy, h.toEndpoint);
    await settle();
    expect(h.user.strays.map((s) => s.response.status)).toEqual([486]);
  });

  it('RFC 6026: a 2xx moves to Accepted, every 2xx retransmission goes up, no ACK is generated, Timer M ends it', async () => {
    const h = createEndpointHarness();
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(outgoingInvite(), h.toPeer, recorder);
    await settle();
    const invite = h.peer.requests('INVITE')[0]!;
    const ok = createResponse(invite, 200, { toTag: 'bob-ok' });
    await h.peer.send(ok, h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Accepted);
    await vi.advanceTimersByTimeAsync(2_000);
    await h.peer.send(ok, h.toEndpoint);
    // A 2xx from another fork of the same INVITE.
    await h.peer.send(createResponse(invite, 200, { toTag: 'bob-fork-2' }), h.toEndpoint);
    // A late non-2xx is discarded in Accepted.
    await h.peer.send(createResponse(invite, 486, { toTag: 'bob-fork-3' }), h.toEndpoint);
    await settle();
    expect(recorder.responses.map((r) => [r.status, r.to.params.get('tag')])).toEqual([
      [200, 'bob-ok'],
      [200, 'bob-ok'],
      [200, 'bob-fork-2'],
    ]);
    expect(h.peer.requests('ACK')).toHaveLength(0);
    expect(h.peer.requests('INVITE')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(32_000 - 2_000 - 1);
    expect(txn.state).toBe(TransactionState.Accepted);
    await vi.advanceTimersByTimeAsync(1);
    expect(txn.state).toBe(TransactionState.Terminated);
    await h.peer.send(ok, h.toEndpoint);
    await settle();
    expect(h.user.strays).toHaveLength(1);
  });
});

describe('ClientInviteTransaction over TCP', () => {
  it('sends the INVITE once and still times out on Timer B', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const recorder = new Recorder();
    h.endpoint.sendRequest(outgoingInvite('TCP'), h.toPeer, recorder);
    await vi.advanceTimersByTimeAsync(32_000);
    expect(h.peer.requests('INVITE')).toHaveLength(1);
    expect(recorder.timeouts).toBe(1);
  });

  it('acknowledges a non-2xx over the same connection and terminates at once (Timer D = 0)', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(outgoingInvite('TCP'), h.toPeer, recorder);
    await settle();
    const arrival = h.peer.received[0]!;
    expect(txn.flow?.id).toBeDefined();
    await h.peer.send(createResponse(arrival.message as SipRequest, 404, { toTag: 'x' }), {
      ...h.toEndpoint,
      flowId: arrival.flow.id,
    });
    await settle();
    expect(recorder.responses.map((r) => r.status)).toEqual([404]);
    expect(txn.state).toBe(TransactionState.Terminated);
    const ackArrival = h.peer.received.find((r) => r.message.isRequest() && r.message.method === 'ACK');
    expect(ackArrival?.flow.id).toBe(arrival.flow.id);
    expect(h.peerTransport.flowCount).toBe(1);
  });

  it('reports a transport error when the connection cannot be opened (RFC 3261 §17.1.4)', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const recorder = new Recorder();
    const txn = h.endpoint.sendRequest(
      outgoingInvite('TCP'),
      { protocol: 'tcp', address: '127.0.0.9', port: 5060 },
      recorder,
    );
    await settle();
    expect(recorder.errors).toHaveLength(1);
    expect(recorder.errors[0]!.message).toMatch(/refused/);
    expect(txn.state).toBe(TransactionState.Terminated);
    expect(h.endpoint.layer.clientCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
