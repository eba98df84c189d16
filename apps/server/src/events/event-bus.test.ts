import { describe, expect, it, vi } from 'vitest';
import { CallTracker } from '../proxy/call-tracker.js';
import type { Cdr } from '../proxy/cdr.js';
import type { Binding } from '../registrar/binding.js';
import { LocationService } from '../registrar/location-service.js';
import { CallEventsAdapter } from './call-events-adapter.js';
import { type DirectoryChange, bridgeDirectoryEvents } from './directory-events-adapter.js';
import { EventBus, type EventRelay } from './event-bus.js';
import { bridgeLocationEvents } from './location-events-adapter.js';
import { type PlatformEvent, eventParties, eventTypeMatches } from './platform-event.js';
import { TypedEmitter } from './typed-emitter.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: '1001@example.com',
    domain: 'Example.com',
    key: 'sip:1001@192.0.2.1:5060',
    contactUri: 'sip:1001@192.0.2.1:5060',
    path: ['<sip:edge.example.net;lr>'],
    callId: 'secret-call-id',
    cseq: 1,
    expiresAt: T0 + 60_000,
    transport: 'udp',
    sourceAddress: '192.0.2.1',
    sourcePort: 5060,
    userAgent: 'phone/1',
    receivedAt: T0,
    ...over,
  };
}

function collect(bus: EventBus): PlatformEvent[] {
  const seen: PlatformEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  return seen;
}

describe('EventBus', () => {
  it('keeps delivering to the other subscribers when one throws, and logs the failure', () => {
    const errors: unknown[] = [];
    const logger = { error: (o: unknown) => errors.push(o) } as unknown as import('pino').Logger;
    const bus = new EventBus({ logger });
    bus.subscribe(() => {
      throw new Error('bad subscriber');
    });
    const seen = collect(bus);
    const event: PlatformEvent = {
      type: 'user.created',
      domain: undefined,
      domainId: 'd1',
      at: new Date(T0).toISOString(),
      payload: { id: 'u1' },
    };
    expect(() => bus.publish(event)).not.toThrow();
    bus.publish(event);
    expect(seen).toHaveLength(2);
    expect(errors).toHaveLength(2);
  });

  it('stops delivering after unsubscribe and after close', async () => {
    const bus = new EventBus();
    const seen: PlatformEvent[] = [];
    const stop = bus.subscribe((e) => seen.push(e));
    const e: PlatformEvent = { type: 'user.deleted', domain: undefined, domainId: 'd', at: '', payload: { id: 'x' } };
    bus.publish(e);
    stop();
    bus.publish(e);
    expect(seen).toHaveLength(1);
    const late = collect(bus);
    await bus.close();
    bus.publish(e);
    expect(late).toHaveLength(0);
    expect(bus.subscriberCount).toBe(0);
  });

  it('sends local events out through a relay and delivers the relay’s events from other nodes', async () => {
    const sent: PlatformEvent[] = [];
    let deliver: ((e: PlatformEvent) => void) | undefined;
    let closed = false;
    const relay: EventRelay = {
      publish: (e) => sent.push(e),
      subscribe: (d) => {
        deliver = d;
        return () => (deliver = undefined);
      },
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    };
    const bus = new EventBus({ relay });
    const seen = collect(bus);
    const local: PlatformEvent = {
      type: 'user.created',
      domain: undefined,
      domainId: 'd',
      at: '',
      payload: { id: 'a' },
    };
    const remote: PlatformEvent = { ...local, payload: { id: 'b' } };
    bus.publish(local);
    deliver?.(remote);
    expect(sent).toEqual([local]);
    expect(seen).toEqual([local, remote]);
    await bus.close();
    expect(closed).toBe(true);
    expect(deliver).toBeUndefined();
  });
});

describe('EventBus.wants', () => {
  it('is true only for a type someone would receive: a stream subscriber, a relay, or a local subscriber that wants it', async () => {
    const bus = new EventBus();
    expect(bus.wants('call.started')).toBe(false);
    const seen: PlatformEvent[] = [];
    const stopLocal = bus.subscribeLocal(
      (e) => seen.push(e),
      (type) => type === 'cdr.created',
    );
    expect(bus.wants('call.started')).toBe(false);
    expect(bus.wants('cdr.created')).toBe(true);
    const stopStream = bus.subscribe(() => {});
    expect(bus.wants('call.started')).toBe(true);
    stopStream();
    expect(bus.wants('call.started')).toBe(false);
    stopLocal();
    expect(bus.wants('cdr.created')).toBe(false);
    // A local subscriber that names no types wants them all.
    bus.subscribeLocal(() => {});
    expect(bus.wants('registration.refreshed')).toBe(true);
    await bus.close();
    expect(bus.wants('registration.refreshed')).toBe(false);
    const relay: EventRelay = { publish: () => {}, subscribe: () => () => {}, close: () => Promise.resolve() };
    const clustered = new EventBus({ relay });
    expect(clustered.wants('call.ended')).toBe(true);
    await clustered.close();
  });
});

describe('location adapter', () => {
  it('publishes registered, refreshed, unregistered and expired without internal routing state', () => {
    let now = T0;
    const location = new LocationService({ clock: () => now });
    const bus = new EventBus();
    const seen = collect(bus);
    const stop = bridgeLocationEvents(location, bus, () => now);
    const b = binding();
    location.save(b);
    location.save({ ...b, cseq: 2 });
    location.remove(location.get(b.aor, b.key)!);
    location.save(binding({ key: 'k2', contactUri: 'sip:1001@192.0.2.2' }));
    now = T0 + 120_000;
    location.sweep();
    expect(seen.map((e) => e.type)).toEqual([
      'registration.registered',
      'registration.refreshed',
      'registration.unregistered',
      'registration.registered',
      'registration.expired',
    ]);
    expect(seen[0]).toEqual({
      type: 'registration.registered',
      domain: 'example.com',
      domainId: undefined,
      at: '2030-01-01T00:00:00.000Z',
      payload: {
        aor: '1001@example.com',
        contact: 'sip:1001@192.0.2.1:5060',
        transport: 'udp',
        source: '192.0.2.1:5060',
        userAgent: 'phone/1',
        instanceId: undefined,
        expiresAt: '2030-01-01T00:01:00.000Z',
      },
    });
    expect(JSON.stringify(seen)).not.toContain('secret-call-id');
    expect(eventParties(seen[0]!)).toEqual(['1001@example.com']);
    stop();
    location.save(binding({ key: 'k3' }));
    expect(seen).toHaveLength(5);
  });

  it('builds and publishes only the types someone wants', () => {
    let now = T0;
    const location = new LocationService({ clock: () => now });
    const bus = new EventBus();
    const published = vi.spyOn(bus, 'publish');
    const seen: PlatformEvent[] = [];
    bridgeLocationEvents(location, bus, () => now);
    location.save(binding());
    location.save({ ...binding(), cseq: 2 });
    expect(published).not.toHaveBeenCalled();
    bus.subscribeLocal(
      (e) => seen.push(e),
      (type) => type === 'registration.expired',
    );
    location.save({ ...binding(), cseq: 3 });
    now = T0 + 120_000;
    location.sweep();
    expect(seen.map((e) => e.type)).toEqual(['registration.expired']);
    expect(published).toHaveBeenCalledTimes(1);
  });
});

/** A call from a@example.com to b@example.com, from a device that said nothing about itself. */
function startCall(calls: CallTracker, callId: string): void {
  calls.start({
    callId,
    domain: 'example.com',
    caller: 'a@example.com',
    callee: 'b@example.com',
    callerTag: 't',
    callerDevice: undefined,
  });
}

describe('call adapter', () => {
  it('publishes started, answered, ended and, once stored, cdr.created with the stored id', async () => {
    let now = T0;
    const stored: Cdr[] = [];
    const bus = new EventBus();
    const seen = collect(bus);
    const adapter = new CallEventsAdapter(bus, () => now);
    const calls = new CallTracker({
      sink: adapter.wrapSink({ insert: (c) => Promise.resolve(void stored.push(c)) }),
      clock: () => now,
    });
    adapter.bridge(calls);
    calls.start({
      callId: 'c1',
      domain: 'example.com',
      caller: '1001@example.com',
      callee: '1002@example.com',
      callerTag: 't',
      callerDevice: 'phone/1',
    });
    now += 2000;
    calls.answered('c1', 'phone/2');
    now += 5000;
    calls.end('c1', { status: 200, reason: 'OK', hangupBy: 'caller' });
    await calls.close();
    expect(seen.map((e) => e.type)).toEqual(['call.started', 'call.answered', 'call.ended', 'cdr.created']);
    const ended = seen[2]!.payload as { id: string; billableS: number; disposition: string };
    const created = seen[3]!.payload as { id: string };
    expect(ended.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.id).toBe(ended.id);
    expect(stored[0]!.id).toBe(ended.id);
    expect(ended.billableS).toBe(5);
    expect(ended.disposition).toBe('answered');
    expect(seen[1]!.payload).toMatchObject({ calleeDevice: 'phone/2', answeredAt: '2030-01-01T00:00:02.000Z' });
    expect(eventParties(seen[3]!)).toEqual(['1001@example.com', '1002@example.com']);
  });

  it('publishes no cdr.created when the CDR could not be stored', async () => {
    const bus = new EventBus();
    const seen = collect(bus);
    const adapter = new CallEventsAdapter(bus);
    const calls = new CallTracker({ sink: adapter.wrapSink({ insert: () => Promise.reject(new Error('db down')) }) });
    adapter.bridge(calls);
    startCall(calls, 'c2');
    calls.end('c2', { status: 486, reason: 'Busy Here' });
    await calls.close();
    expect(seen.map((e) => e.type)).toEqual(['call.started', 'call.ended']);
    expect(seen[1]!.payload).toMatchObject({ disposition: 'busy', sipStatus: 486 });
  });
});

describe('call adapter with nobody listening', () => {
  it('publishes nothing, and still stores every CDR with its id', async () => {
    const stored: Cdr[] = [];
    const bus = new EventBus();
    const published = vi.spyOn(bus, 'publish');
    const adapter = new CallEventsAdapter(bus);
    const calls = new CallTracker({ sink: adapter.wrapSink({ insert: (c) => Promise.resolve(void stored.push(c)) }) });
    adapter.bridge(calls);
    startCall(calls, 'c3');
    calls.answered('c3', undefined);
    calls.end('c3', { status: 200, reason: 'OK', hangupBy: 'callee' });
    await calls.close();
    expect(published).not.toHaveBeenCalled();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    // A webhook for CDRs appears: from then on cdr.created (only) is published.
    const seen: PlatformEvent[] = [];
    bus.subscribeLocal(
      (e) => seen.push(e),
      (type) => type === 'cdr.created',
    );
    startCall(calls, 'c4');
    calls.end('c4', { status: 486, reason: 'Busy Here' });
    await calls.close();
    expect(seen.map((e) => e.type)).toEqual(['cdr.created']);
    expect((seen[0]!.payload as { id: string }).id).toBe(stored[1]!.id);
  });
});

describe('directory adapter', () => {
  it('republishes known directory changes with their tenant and skips unknown or tenant-less ones', () => {
    const directory = new TypedEmitter<{ change: [DirectoryChange] }>();
    const bus = new EventBus();
    const seen = collect(bus);
    bridgeDirectoryEvents(
      (l) => directory.on('change', l),
      bus,
      () => T0,
    );
    directory.emit('change', { type: 'user.created', domainId: 'd1', domain: 'A.example', id: 'u1' });
    directory.emit('change', { type: 'domain.deleted', domainId: undefined, id: 'd2' });
    directory.emit('change', { type: 'user.exploded', domainId: 'd1', id: 'u1' });
    directory.emit('change', { type: 'user.updated', domainId: undefined, id: 'u1' });
    expect(seen).toEqual([
      {
        type: 'user.created',
        domain: 'a.example',
        domainId: 'd1',
        at: '2030-01-01T00:00:00.000Z',
        payload: { id: 'u1' },
      },
      {
        type: 'domain.deleted',
        domain: undefined,
        domainId: 'd2',
        at: '2030-01-01T00:00:00.000Z',
        payload: { id: 'd2' },
      },
    ]);
  });
});

describe('eventTypeMatches', () => {
  it('matches *, a family wildcard and exact types only', () => {
    expect(eventTypeMatches('*', 'cdr.created')).toBe(true);
    expect(eventTypeMatches('call.*', 'call.ended')).toBe(true);
    expect(eventTypeMatches('call.*', 'cdr.created')).toBe(false);
    expect(eventTypeMatches('call.*', 'callx.ended')).toBe(false);
    expect(eventTypeMatches('cdr.created', 'cdr.created')).toBe(true);
    expect(eventTypeMatches('cdr.created', 'cdr.createdx')).toBe(false);
  });
});
