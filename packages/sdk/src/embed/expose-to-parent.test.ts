import { describe, expect, it } from 'vitest';
import { Phone } from '../phone.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeUserAgent } from '../testing/fake-user-agent.js';
import { EMBED_TAG, EMBED_VERSION, type EmbedConfig } from './embed-protocol.js';
import { exposeToParent } from './expose-to-parent.js';

const PARENT = 'https://crm.example.test';

/** The iframe's window (collects listeners) and its parent (collects what is posted to it). */
function frames() {
  const listeners: Array<(ev: MessageEvent) => void> = [];
  const posted: Array<{ msg: Record<string, unknown>; origin: string }> = [];
  const parent = {
    postMessage: (msg: unknown, origin: string) => posted.push({ msg: msg as Record<string, unknown>, origin }),
  };
  const self = {
    addEventListener: (_: string, l: (ev: MessageEvent) => void) => listeners.push(l),
    removeEventListener: () => undefined,
  };
  const deliver = (data: unknown, origin = PARENT, source: unknown = parent) =>
    listeners.forEach((l) => l({ data, origin, source } as MessageEvent));
  return { parent, self, posted, deliver };
}

const req = (id: number, method: string, params: unknown[] = []) => ({
  tag: EMBED_TAG,
  v: EMBED_VERSION,
  kind: 'request',
  id,
  method,
  params,
});
const settle = () => new Promise((r) => setTimeout(r, 0));

function world() {
  const f = frames();
  const uas: FakeUserAgent[] = [];
  const made: EmbedConfig[] = [];
  const stop = exposeToParent(
    (config) => {
      made.push(config);
      return new Phone({
        ...config,
        clock: new FakeClock(),
        autoPlayAudio: false,
        environment: {},
        userAgentFactory: (c) => {
          const ua = new FakeUserAgent(c);
          uas.push(ua);
          return ua;
        },
      });
    },
    { allowedOrigins: [PARENT], self: f.self, parent: f.parent },
  );
  return { ...f, uas, made, stop };
}

const responses = (posted: Array<{ msg: Record<string, unknown> }>) =>
  posted.filter((p) => p.msg.kind === 'response').map((p) => p.msg);

describe('exposeToParent', () => {
  it('refuses a wildcard or malformed allow list', () => {
    const f = frames();
    for (const allowedOrigins of [[], ['*'], ['crm.example.test'], ['https://crm.example.test/path']])
      expect(() =>
        exposeToParent(() => undefined as never, { allowedOrigins, self: f.self, parent: f.parent }),
      ).toThrow();
  });

  it('announces itself only to the allowed origin', () => {
    const w = world();
    expect(w.posted).toEqual([{ msg: { tag: EMBED_TAG, v: EMBED_VERSION, kind: 'ready' }, origin: PARENT }]);
  });

  it('answers requests from the parent on its origin, and only to that origin', async () => {
    const w = world();
    w.deliver(req(1, 'getState'));
    await settle();
    expect(w.posted.at(-1)).toEqual({
      msg: {
        tag: EMBED_TAG,
        v: EMBED_VERSION,
        kind: 'response',
        id: 1,
        ok: true,
        result: { configured: false, registration: 'unregistered', connection: 'disconnected', calls: [] },
      },
      origin: PARENT,
    });
  });

  it('ignores other origins, other frames on the right origin, and malformed messages: no answer, no action', async () => {
    const w = world();
    const config = { server: 'wss://pbx.example.test/sip', uri: 'sip:1001@example.test', password: 'pw' };
    w.deliver(req(1, 'configure', [config]), 'https://evil.example.test');
    w.deliver(req(2, 'configure', [config]), PARENT, { postMessage: () => undefined });
    w.deliver({ ...req(3, 'configure', [config]), tag: 'nope' });
    w.deliver(req(4, 'configure', [config, 1, 2, 3, 4]));
    w.deliver('configure');
    await settle();
    expect(w.made).toEqual([]);
    expect(responses(w.posted)).toEqual([]);
  });

  it('configure validates its input and later calls reach the phone', async () => {
    const w = world();
    w.deliver(req(1, 'configure', [{ server: 'wss://pbx.example.test/sip' }]));
    w.deliver(req(2, 'call', ['1002']));
    await settle();
    const [first, second] = responses(w.posted);
    expect(first).toMatchObject({ id: 1, ok: false, error: { reason: 'invalid-argument' } });
    expect(second).toMatchObject({ id: 2, ok: false, error: { reason: 'invalid-state' } });
    w.deliver(
      req(3, 'configure', [{ server: 'wss://pbx.example.test/sip', uri: 'sip:1001@example.test', password: 'pw' }]),
    );
    await settle();
    expect(w.made).toHaveLength(1);
    w.deliver(req(4, 'register'));
    await settle();
    w.uas[0]!.fire('connected');
    await settle();
    w.uas[0]!.fire('registered');
    await settle();
    expect(responses(w.posted).at(-1)).toMatchObject({ id: 4, ok: true, result: { registration: 'registered' } });
    expect(w.posted.some((p) => p.msg.kind === 'event' && p.msg.event === 'registration')).toBe(true);
    // A hostile call target is refused by the phone, not sent.
    w.deliver(req(5, 'call', ['1002\r\nVia: evil']));
    await settle();
    expect(responses(w.posted).at(-1)).toMatchObject({ id: 5, ok: false, error: { reason: 'invalid-argument' } });
    expect(w.uas[0]!.actions.some((a) => a.startsWith('call'))).toBe(false);
  });
});
