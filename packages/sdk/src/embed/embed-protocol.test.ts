import { describe, expect, it } from 'vitest';
import { EMBED_TAG, EMBED_VERSION, parseConfig, parseFromPhone, parseRequest } from './embed-protocol.js';

const env = { tag: EMBED_TAG, v: EMBED_VERSION };

describe('embed message checks', () => {
  it('accepts a well-formed request', () => {
    expect(
      parseRequest({ ...env, kind: 'request', id: 1, method: 'call', params: ['1002', { video: true }] }),
    ).toBeDefined();
  });

  it('drops requests that are malformed, unknown, oversized or not plain data', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = [deep];
    const bad: unknown[] = [
      null,
      'call',
      [],
      { ...env, kind: 'request', id: 1, method: 'eval', params: [] },
      { ...env, kind: 'request', id: 1, method: 'constructor', params: [] },
      { ...env, kind: 'request', id: 1, method: '__proto__', params: [] },
      { ...env, kind: 'request', id: -1, method: 'call', params: [] },
      { ...env, kind: 'request', id: 1.5, method: 'call', params: [] },
      { ...env, kind: 'request', id: '1', method: 'call', params: [] },
      { ...env, kind: 'request', id: 1, method: 'call', params: 'x' },
      { ...env, kind: 'request', id: 1, method: 'call', params: [1, 2, 3, 4, 5] },
      { ...env, kind: 'request', id: 1, method: 'call', params: ['x'.repeat(70_000)] },
      { ...env, kind: 'request', id: 1, method: 'call', params: [cyclic] },
      { ...env, kind: 'request', id: 1, method: 'call', params: [deep] },
      { ...env, kind: 'request', id: 1, method: 'call', params: [new Date()] },
      { ...env, kind: 'request', id: 1, method: 'call', params: [Number.NaN] },
      { tag: EMBED_TAG, v: 2, kind: 'request', id: 1, method: 'call', params: [] },
      { tag: 'other', v: 1, kind: 'request', id: 1, method: 'call', params: [] },
      { ...env, kind: 'response', id: 1, ok: true, result: null },
    ];
    bad.forEach((m, i) => expect(parseRequest(m), `case ${i}`).toBeUndefined());
  });

  it('checks what the phone sends: known events only, and errors with a reason and a message', () => {
    expect(parseFromPhone({ ...env, kind: 'ready' })).toBeDefined();
    expect(parseFromPhone({ ...env, kind: 'event', event: 'cdr', data: { callId: 'x' } })).toBeDefined();
    expect(parseFromPhone({ ...env, kind: 'event', event: 'toString', data: null })).toBeUndefined();
    expect(parseFromPhone({ ...env, kind: 'response', id: 1, ok: false, error: 'boom' })).toBeUndefined();
    expect(
      parseFromPhone({ ...env, kind: 'response', id: 1, ok: false, error: { reason: 'x', message: 'y' } }),
    ).toBeDefined();
    expect(parseFromPhone({ ...env, kind: 'request', id: 1, method: 'call', params: [] })).toBeUndefined();
  });

  it('configure needs server, uri and password strings of sane length', () => {
    expect(parseConfig({ server: 'wss://x/sip', uri: 'sip:a@b', password: 'p' })).toBeDefined();
    expect(parseConfig({ server: 'wss://x/sip', uri: 'sip:a@b' })).toBeUndefined();
    expect(parseConfig({ server: 'wss://x/sip', uri: 'sip:a@b', password: 1 })).toBeUndefined();
    expect(parseConfig({ server: 'wss://x/sip', uri: 'sip:a@b', password: 'p'.repeat(300) })).toBeUndefined();
    expect(
      parseConfig({ server: 'wss://x/sip', uri: 'sip:a@b', password: 'p', iceServers: [{ urls: 5 }] }),
    ).toBeUndefined();
    expect(parseConfig('wss://x')).toBeUndefined();
  });
});
