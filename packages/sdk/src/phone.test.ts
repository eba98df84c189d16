import { describe, expect, it } from 'vitest';
import { CallState } from './call-state.js';
import { ErrorReason, HandsetError } from './handset-error.js';
import { Phone, type PhoneOptions } from './phone.js';
import { ExponentialBackoffPolicy } from './reconnect-policy.js';
import { ConnectionState, RegistrationState } from './registration-state.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeUserAgent } from './testing/fake-user-agent.js';

/** A window/document pair whose events the test dispatches. */
function fakeEnvironment() {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
  return {
    env: { window: win, document: doc },
    online: () => win.dispatchEvent(new Event('online')),
    show: () => {
      doc.visibilityState = 'visible';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

function setup(extra: Partial<PhoneOptions> = {}) {
  const clock = new FakeClock();
  const net = fakeEnvironment();
  let ua!: FakeUserAgent;
  const phone = new Phone({
    server: 'wss://pbx.example.test/sip',
    uri: 'sip:1001@example.test',
    password: 'pw',
    clock,
    environment: net.env,
    reconnectPolicy: new ExponentialBackoffPolicy({ initialDelayMs: 1000, maxDelayMs: 8000, jitter: 0 }),
    autoPlayAudio: false,
    userAgentFactory: (c) => (ua = new FakeUserAgent(c)),
    ...extra,
  });
  const states: string[] = [];
  phone.on('connectionStateChanged', (s) => states.push(`conn:${s}`));
  phone.on('registrationStateChanged', (s) => states.push(`reg:${s}`));
  return { phone, ua, clock, net, states };
}

/** Connects and registers through the fake server. */
async function registered(t: ReturnType<typeof setup>) {
  const p = t.phone.register();
  t.ua.fire('connected');
  await Promise.resolve();
  await Promise.resolve();
  t.ua.fire('registered');
  await p;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('Phone', () => {
  it('refuses a server that is not a WebSocket URL and a malformed AOR', () => {
    const base = { password: 'x', userAgentFactory: (c: never) => new FakeUserAgent(c) };
    expect(() => new Phone({ ...base, server: 'http://x', uri: 'sip:a@b' })).toThrow(HandsetError);
    expect(() => new Phone({ ...base, server: 'wss://x', uri: 'alice' })).toThrow(/sip:user@domain/);
  });

  it('connects, registers and reports both states in order', async () => {
    const t = setup();
    await registered(t);
    expect(t.ua.actions).toEqual(['start', 'register']);
    expect(t.states).toEqual(['conn:connecting', 'conn:connected', 'reg:registering', 'reg:registered']);
    expect(t.ua.config).toMatchObject({ server: 'wss://pbx.example.test/sip', uri: 'sip:1001@example.test' });
  });

  it('a 403 on REGISTER rejects with authentication-failed and the status', async () => {
    const t = setup();
    const p = t.phone.register();
    t.ua.fire('connected');
    await flush();
    t.ua.fire('registrationFailed', { cause: 'Rejected', statusCode: 403 });
    await expect(p).rejects.toMatchObject({ reason: ErrorReason.AuthenticationFailed, statusCode: 403 });
    expect(t.phone.registrationState).toBe(RegistrationState.Failed);
  });

  it('register() times out with a timeout error when the server never answers', async () => {
    const t = setup({ timeoutMs: 2000 });
    const p = t.phone.register();
    t.ua.fire('connected');
    await flush();
    t.clock.advance(2000);
    await expect(p).rejects.toMatchObject({ reason: ErrorReason.Timeout });
  });

  it('a lost WebSocket is retried on the policy schedule, then re-registers and restarts ICE of active calls', async () => {
    const t = setup();
    await registered(t);
    const call = await t.phone.call('1002');
    t.ua.lastCall!.session.fire('accepted');
    expect(call.state).toBe(CallState.Active);

    let reconnected = 0;
    t.phone.on('reconnected', () => reconnected++);
    t.ua.fire('unregistered');
    t.ua.fire('disconnected', { error: true });
    expect(t.phone.connectionState).toBe(ConnectionState.Reconnecting);
    expect(t.phone.registrationState).toBe(RegistrationState.Registering);
    expect(t.clock.pending()).toEqual([1000]);
    t.clock.advance(999);
    expect(t.ua.actions.filter((a) => a === 'reconnect')).toHaveLength(0);
    t.clock.advance(1);
    expect(t.ua.actions.filter((a) => a === 'reconnect')).toHaveLength(1);

    // The first retry fails too: the next delay doubles.
    t.ua.fire('disconnected', { error: true });
    expect(t.clock.pending()).toEqual([2000]);
    t.clock.advance(2000);
    t.ua.fire('connected');
    expect(t.phone.connectionState).toBe(ConnectionState.Connected);
    expect(t.ua.actions.slice(-2)).toEqual(['reconnect', 'register']);
    expect(t.ua.lastCall!.session.actions).toContain('renegotiate ice-restart');
    expect(reconnected).toBe(1);
    t.ua.fire('registered');
    expect(t.phone.registrationState).toBe(RegistrationState.Registered);
    // The call itself was never touched by the loss.
    expect(call.state).toBe(CallState.Active);

    // After a success the schedule starts again from the first delay.
    t.ua.fire('disconnected', { error: true });
    expect(t.clock.pending()).toEqual([1000]);
  });

  it('`online` cuts the back-off short and retries at once', async () => {
    const t = setup();
    await registered(t);
    t.ua.fire('disconnected', { error: true });
    t.ua.fire('disconnected', { error: true });
    expect(t.ua.actions.filter((a) => a === 'reconnect')).toHaveLength(0);
    t.net.online();
    expect(t.ua.actions.filter((a) => a === 'reconnect')).toHaveLength(1);
    expect(t.clock.pending()).toEqual([]);
  });

  it('the page becoming visible refreshes the registration of a connected phone', async () => {
    const t = setup();
    await registered(t);
    t.net.show();
    expect(t.ua.actions).toEqual(['start', 'register', 'register']);
  });

  it('a policy that gives up leaves the phone disconnected with a connection-failed error', async () => {
    const t = setup({ reconnectPolicy: { nextRetryDelayMs: ({ attempt }) => (attempt > 1 ? null : 10) } });
    await registered(t);
    const errors: HandsetError[] = [];
    t.phone.on('error', (e) => errors.push(e));
    t.ua.fire('disconnected', { error: true });
    t.clock.advance(10);
    t.ua.fire('disconnected', { error: true });
    expect(t.phone.connectionState).toBe(ConnectionState.Disconnected);
    expect(t.phone.registrationState).toBe(RegistrationState.Failed);
    expect(errors.map((e) => e.reason)).toEqual([ErrorReason.ConnectionFailed]);
  });

  it('rings in a second call while one is active, and swap holds the other', async () => {
    const t = setup();
    await registered(t);
    const incoming: string[] = [];
    t.phone.on('incoming', (c) => incoming.push(c.remoteUri));
    const s1 = t.ua.incoming('sip:1002@example.test');
    const first = t.phone.calls[0]!;
    await first.answer();
    expect(s1.answered?.mediaConstraints).toEqual({ audio: true, video: false });
    s1.fire('confirmed');
    const s2 = t.ua.incoming('sip:1003@example.test', true);
    const second = t.phone.calls[1]!;
    expect(incoming).toEqual(['sip:1002@example.test', 'sip:1003@example.test']);
    expect(second.video).toBe(true);
    await second.answer();
    s2.fire('confirmed');
    t.phone.swap(second);
    expect(s1.actions).toContain('hold');
    expect(first.holdState.local).toBe(true);
    t.phone.swap(first);
    expect(s2.actions).toContain('hold');
    expect(s1.actions).toContain('unhold');
  });

  it('an ended call leaves the list and is reported with its history record', async () => {
    const t = setup();
    await registered(t);
    const records: unknown[] = [];
    t.phone.on('callEnded', (_c, r) => records.push(r));
    const call = await t.phone.call('sip:1002@example.test', { video: true });
    expect(t.ua.lastCall!.headers).toContain('X-Videocall: true');
    expect(t.ua.lastCall!.media.mediaConstraints).toEqual({ audio: true, video: true });
    t.ua.lastCall!.session.fire('accepted');
    t.clock.advance(61_000);
    t.ua.lastCall!.session.fire('ended', { originator: 'remote', cause: 'Terminated' });
    expect(t.phone.calls).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({
        id: call.id,
        direction: 'outgoing',
        video: true,
        durationS: 61,
        end: { by: 'remote', cause: 'Terminated', statusCode: undefined, failed: false },
      }),
    ]);
  });

  it('call() refuses hostile targets and header injection', async () => {
    const t = setup();
    await registered(t);
    for (const bad of ['', ' ', 'a b', '1002\r\nVia: x', 'x'.repeat(300), 42 as unknown as string]) {
      await expect(t.phone.call(bad)).rejects.toMatchObject({ reason: ErrorReason.InvalidArgument });
    }
    await expect(t.phone.call('1002', { extraHeaders: ['X-A: 1\r\nVia: evil'] })).rejects.toMatchObject({
      reason: ErrorReason.InvalidArgument,
    });
    expect(t.ua.actions.filter((a) => a.startsWith('call'))).toEqual([]);
  });

  it('follows a REFER by calling the target with fresh media', async () => {
    const t = setup({ iceServers: async () => [{ urls: 'stun:stun.example.test' }] });
    await registered(t);
    const s = t.ua.incoming();
    let accepted: unknown;
    s.fire('refer', { target: 'sip:1003@example.test', accept: (m) => (accepted = m), reject: () => undefined });
    await flush();
    expect(accepted).toEqual({
      mediaConstraints: { audio: true, video: false },
      pcConfig: { iceServers: [{ urls: 'stun:stun.example.test' }] },
    });
  });

  it('close() hangs up, stops the stack once and rejects later use', async () => {
    const t = setup();
    await registered(t);
    const s = t.ua.incoming();
    t.phone.close();
    t.phone.close();
    expect(s.actions).toEqual(['terminate']);
    expect(t.ua.actions.filter((a) => a === 'stop')).toHaveLength(1);
    await expect(t.phone.register()).rejects.toMatchObject({ reason: ErrorReason.Closed });
    // Nothing scheduled survives the phone.
    t.ua.fire('disconnected', { error: true });
    expect(t.clock.pending()).toEqual([]);
  });

  it('a throwing listener cannot break the phone', async () => {
    const errors: unknown[] = [];
    const t = setup({ onListenerError: (e) => errors.push(e) });
    t.phone.on('connectionStateChanged', () => {
      throw new Error('app bug');
    });
    await registered(t);
    expect(t.phone.registrationState).toBe(RegistrationState.Registered);
    expect(errors.length).toBeGreaterThan(0);
  });
});
