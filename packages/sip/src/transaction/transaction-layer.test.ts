import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import { createEndpointHarness, requestText, settle, testRequest } from '../testing/endpoint-harness.js';
import type { ClientTransactionHandler } from './client-transaction.js';
import { createCancel } from './create-cancel.js';
import { TransactionError } from './transaction-error.js';
import { TransactionLayer } from './transaction-layer.js';
import { TransactionState } from './transaction-state.js';

const noop: ClientTransactionHandler = { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('server transaction matching (RFC 3261 §17.2.3)', () => {
  it('matches the ACK for a non-2xx to the INVITE transaction by branch and sent-by', async () => {
    const h = createEndpointHarness();
    h.user.answer = (t) => t.respond(createResponse(t.request, 404, { toTag: 'srv' }));
    await h.peer.send(requestText('INVITE', { branch: 'z9hG4bK-a' }), h.toEndpoint);
    await settle();
    await h.peer.send(requestText('ACK', { branch: 'z9hG4bK-a', toTag: 'srv' }), h.toEndpoint);
    await settle();
    expect(h.user.transactions[0]!.state).toBe(TransactionState.Confirmed);
    expect(h.user.acks).toHaveLength(0);
  });

  it('treats the same branch from another sent-by as a different transaction', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('OPTIONS', { branch: 'z9hG4bK-same' }), h.toEndpoint);
    await h.peer.send(
      requestText('OPTIONS', { branch: 'z9hG4bK-same', sentBy: 'other.example.com:5060' }),
      h.toEndpoint,
    );
    await settle();
    expect(h.user.transactions).toHaveLength(2);
  });

  it('gives a CANCEL its own transaction and finds the INVITE it cancels (§9.2)', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('INVITE', { branch: 'z9hG4bK-c' }), h.toEndpoint);
    await settle();
    const inviteTxn = h.user.transactions[0]!;
    inviteTxn.respond(createResponse(inviteTxn.request, 180, { toTag: 'srv' }));
    await h.peer.send(requestText('CANCEL', { branch: 'z9hG4bK-c' }), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
    const cancelTxn = h.user.transactions[1]!;
    expect(cancelTxn.request.method).toBe('CANCEL');
    expect(h.endpoint.findInviteServerTransaction(cancelTxn.request)).toBe(inviteTxn);

    cancelTxn.respond(createResponse(cancelTxn.request, 200, { toTag: 'srv' }));
    inviteTxn.respond(createResponse(inviteTxn.request, 487, { toTag: 'srv' }));
    await settle();
    expect(h.peer.responses().map((r) => `${r.status} ${r.cseq.method}`)).toEqual([
      '180 INVITE',
      '200 CANCEL',
      '487 INVITE',
    ]);

    const stray = testRequest('CANCEL', { branch: 'z9hG4bK-unknown' });
    expect(h.endpoint.findInviteServerTransaction(stray)).toBeUndefined();
  });

  it('passes an ACK that matches no transaction to the TU', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('ACK', { branch: 'z9hG4bK-2xx-ack', toTag: 'x' }), h.toEndpoint);
    await settle();
    expect(h.user.acks).toHaveLength(1);
    expect(h.user.transactions).toHaveLength(0);
    expect(h.endpoint.layer.serverCount).toBe(0);
  });

  it('answers 500 when the TU throws before answering', async () => {
    const h = createEndpointHarness();
    h.user.answer = () => {
      throw new Error('boom');
    };
    await h.peer.send(requestText('MESSAGE'), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([500]);
  });
});

describe('RFC 2543 clients (no magic cookie, §17.2.3)', () => {
  const old = { branch: null, callId: 'old-1@test', cseq: 7 } as const;

  it('absorbs a retransmitted INVITE by Request-URI, tags, Call-ID, CSeq and top Via', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('INVITE', old), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    txn.respond(createResponse(txn.request, 180, { toTag: 'srv' }));
    await h.peer.send(requestText('INVITE', old), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(1);
    expect(h.peer.responses(180)).toHaveLength(2);
    // A different CSeq is a new request.
    await h.peer.send(requestText('INVITE', { ...old, cseq: 8 }), h.toEndpoint);
    await settle();
    expect(h.user.transactions).toHaveLength(2);
  });

  it('matches the ACK whose To tag equals the tag of the response sent', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('INVITE', old), h.toEndpoint);
    await settle();
    const txn = h.user.transactions[0]!;
    txn.respond(createResponse(txn.request, 486, { toTag: 'srv-486' }));
    await h.peer.send(requestText('ACK', { ...old, toTag: 'wrong' }), h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Completed);
    expect(h.user.acks).toHaveLength(1);
    await h.peer.send(requestText('ACK', { ...old, toTag: 'srv-486' }), h.toEndpoint);
    await settle();
    expect(txn.state).toBe(TransactionState.Confirmed);
    expect(h.user.acks).toHaveLength(1);
  });

  it('finds the INVITE a CANCEL refers to', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('INVITE', old), h.toEndpoint);
    await h.peer.send(requestText('CANCEL', old), h.toEndpoint);
    await settle();
    const [inviteTxn, cancelTxn] = h.user.transactions;
    expect(cancelTxn!.request.method).toBe('CANCEL');
    expect(h.endpoint.findInviteServerTransaction(cancelTxn!.request)).toBe(inviteTxn);
    expect(
      h.endpoint.findInviteServerTransaction(testRequest('CANCEL', { ...old, uri: 'sip:carol@127.0.0.1' })),
    ).toBeUndefined();
  });
});

describe('client transactions', () => {
  it('refuses ACK, a request without a magic-cookie branch, and a duplicate branch', () => {
    const h = createEndpointHarness();
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as TransactionError).code;
      }
      return undefined;
    };
    expect(code(() => h.endpoint.sendRequest(testRequest('ACK', { toTag: 't' }), h.toPeer, noop))).toBe(
      'NOT_A_TRANSACTION',
    );
    expect(code(() => h.endpoint.sendRequest(testRequest('OPTIONS', { branch: 'old-style' }), h.toPeer, noop))).toBe(
      'MISSING_BRANCH',
    );
    h.endpoint.sendRequest(testRequest('OPTIONS', { branch: 'z9hG4bK-d' }), h.toPeer, noop);
    expect(code(() => h.endpoint.sendRequest(testRequest('OPTIONS', { branch: 'z9hG4bK-d' }), h.toPeer, noop))).toBe(
      'DUPLICATE_TRANSACTION',
    );
  });

  it('sends a CANCEL for a pending INVITE as its own transaction with the INVITE branch', async () => {
    const h = createEndpointHarness();
    const invite = testRequest('INVITE', {
      sentBy: '127.0.0.1:5060',
      branch: 'z9hG4bK-x',
      headers: ['Route: <sip:p1.example.com;lr>'],
    });
    const inviteTxn = h.endpoint.sendRequest(invite, h.toPeer, noop);
    await settle();
    const cancel = createCancel(invite);
    h.endpoint.sendRequest(cancel, inviteTxn.target, noop);
    await settle();
    const got = h.peer.requests('CANCEL')[0]!;
    expect(got.topVia.params.get('branch')).toBe('z9hG4bK-x');
    expect(got.getHeaders('via')).toHaveLength(1);
    expect(got.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect(got.getHeaders('route')).toEqual(['<sip:p1.example.com;lr>']);
    expect(got.uri).toBe(invite.uri);
    expect(h.endpoint.layer.clientCount).toBe(2);
  });
});

describe('TransactionLayer.close', () => {
  it('clears every timer and forgets every transaction; a second close is harmless', async () => {
    const h = createEndpointHarness();
    h.endpoint.sendRequest(testRequest('INVITE', { sentBy: '127.0.0.1:5060', branch: 'z9hG4bK-i' }), h.toPeer, noop);
    h.endpoint.sendRequest(testRequest('OPTIONS', { sentBy: '127.0.0.1:5060', branch: 'z9hG4bK-o' }), h.toPeer, noop);
    await h.peer.send(requestText('INVITE', { branch: 'z9hG4bK-s' }), h.toEndpoint);
    await settle();
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    h.endpoint.layer.close();
    h.endpoint.layer.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(h.endpoint.layer.clientCount + h.endpoint.layer.serverCount).toBe(0);
    expect(() => h.endpoint.sendRequest(testRequest('OPTIONS', { branch: 'z9hG4bK-late' }), h.toPeer, noop)).toThrow(
      TransactionError,
    );
  });

  it('rejects timer options that are not positive', () => {
    expect(
      () =>
        new TransactionLayer({
          send: () => Promise.reject(new Error('x')),
          tu: { onRequest() {}, onAck() {}, onStrayResponse() {} },
          t1: 0,
        }),
    ).toThrow(TransactionError);
  });
});
