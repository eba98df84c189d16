import { describe, expect, it } from 'vitest';
import type { Binding } from './binding.js';
import { type BindingPersistence, LocationService } from './location-service.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: '1001@example.com',
    domain: 'example.com',
    key: 'sip:1001@192.0.2.1:5060',
    contactUri: 'sip:1001@192.0.2.1:5060',
    path: [],
    callId: 'call-1',
    cseq: 1,
    expiresAt: T0 + 3600_000,
    transport: 'udp',
    sourceAddress: '192.0.2.1',
    sourcePort: 5060,
    userAgent: 'phone/1',
    receivedAt: T0,
    ...over,
  };
}

/** A refresh of `b` received `afterMs` later with the same interval. */
function refresh(b: Binding, afterMs: number, over: Partial<Binding> = {}): Binding {
  const interval = b.expiresAt - b.receivedAt;
  return {
    ...b,
    cseq: b.cseq + 1,
    receivedAt: b.receivedAt + afterMs,
    expiresAt: b.receivedAt + afterMs + interval,
    ...over,
  };
}

/** An in-memory store that records what was written. */
class FakeStore implements BindingPersistence {
  readonly rows = new Map<string, Binding>();
  readonly upserts: Binding[][] = [];
  maintained = 0;
  failNext = false;
  /** While set, writes wait for it (a write in progress). */
  gate: Promise<void> | undefined;

  async upsertMany(list: readonly Binding[]): Promise<void> {
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('store down');
    }
    this.upserts.push([...list]);
    for (const b of list) this.rows.set(`${b.aor} ${b.key}`, b);
  }
  async removeMany(keys: ReadonlyArray<{ aor: string; key: string }>): Promise<void> {
    await this.gate;
    for (const k of keys) this.rows.delete(`${k.aor} ${k.key}`);
  }
  async loadAll(now: number): Promise<Binding[]> {
    return [...this.rows.values()].filter((b) => b.expiresAt > now);
  }
  async maintain(): Promise<void> {
    this.maintained++;
  }
  row(b: Binding): Binding | undefined {
    return this.rows.get(`${b.aor} ${b.key}`);
  }
}

function setup(options: { maxStoredExpiryLagMs?: number; maintainEveryRows?: number } = {}) {
  const store = new FakeStore();
  let now = T0;
  const location = new LocationService({ persistence: store, clock: () => now, ...options });
  return { store, location, advance: (ms: number) => (now += ms) };
}

describe('LocationService persistence', () => {
  it('writes a new binding at the next flush', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    expect(store.row(b)).toBeUndefined();
    await location.flush();
    expect(store.row(b)).toEqual(b);
  });

  it('keeps a refresh that only moves the expiry a little in memory, and writes it at close', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    await location.flush();
    const r = refresh(b, 5000, { callId: 'call-2' });
    location.save(r);
    await location.flush();
    expect(store.upserts).toHaveLength(1);
    expect(store.row(b)).toEqual(b);
    expect(location.get(b.aor, b.key)).toEqual(r);
    await location.close();
    expect(store.row(b)).toEqual(r);
  });

  it('never lets the stored expiry fall further behind than the lag allows', async () => {
    const { store, location } = setup({ maxStoredExpiryLagMs: 60_000 });
    const b = binding();
    location.save(b);
    await location.flush();
    const r1 = refresh(b, 30_000);
    location.save(r1);
    await location.flush();
    expect(store.row(b)).toEqual(b);
    const r2 = refresh(r1, 30_001);
    location.save(r2);
    await location.flush();
    expect(store.row(b)).toEqual(r2);
  });

  it('bounds the lag by a tenth of the interval for short registrations', async () => {
    const { store, location } = setup({ maxStoredExpiryLagMs: 60_000 });
    const b = binding({ expiresAt: T0 + 60_000 });
    location.save(b);
    await location.flush();
    location.save(refresh(b, 5000));
    await location.flush();
    expect(store.row(b)).toEqual(b);
    const r = refresh(b, 7000);
    location.save(r);
    await location.flush();
    expect(store.row(b)).toEqual(r);
  });

  it.each([
    ['contact', { contactUri: 'sip:1001@192.0.2.9:5060' }],
    ['source port', { sourcePort: 5070 }],
    ['path', { path: ['<sip:edge.example.com;lr>'] }],
    ['user agent', { userAgent: 'phone/2' }],
    ['shorter expiry', { expiresAt: T0 + 1000 + 1800_000 }],
  ] satisfies Array<[string, Partial<Binding>]>)(
    'writes a refresh that changes the %s at once',
    async (_what, change) => {
      const { store, location } = setup();
      const b = binding();
      location.save(b);
      await location.flush();
      const r = refresh(b, 1000, change);
      location.save(r);
      await location.flush();
      expect(store.row(b)).toEqual(r);
    },
  );

  it('writes every refresh when the lag is 0', async () => {
    const { store, location } = setup({ maxStoredExpiryLagMs: 0 });
    const b = binding();
    location.save(b);
    await location.flush();
    const r = refresh(b, 1000);
    location.save(r);
    await location.flush();
    expect(store.row(b)).toEqual(r);
  });

  it('removes a binding whose refresh was kept in memory, and does not write the refresh at close', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    await location.flush();
    const r = refresh(b, 1000);
    location.save(r);
    location.remove(r);
    await location.close();
    expect(store.row(b)).toBeUndefined();
  });

  it('writes a refresh that arrives while the binding is being written, against the new row', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    await location.flush();
    const moved = refresh(b, 1000, { sourcePort: 6000 });
    location.save(moved);
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const writing = location.flush();
    await Promise.resolve();
    // Same as the old row but for the expiry: it must not be kept back, the store is about to hold `moved`.
    const back = refresh(b, 2000);
    location.save(back);
    store.gate = undefined;
    open();
    await writing;
    await location.flush();
    expect(store.row(b)).toEqual(back);
  });

  it('retries a failed write at the next flush', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    store.failNext = true;
    await location.flush();
    expect(store.row(b)).toBeUndefined();
    await location.flush();
    expect(store.row(b)).toEqual(b);
  });

  it('asks the store to reclaim space after enough rows were written', async () => {
    const { store, location } = setup({ maintainEveryRows: 3 });
    for (let i = 0; i < 2; i++) location.save(binding({ aor: `${i}@example.com` }));
    await location.flush();
    expect(store.maintained).toBe(0);
    location.save(binding({ aor: '9@example.com' }));
    await location.flush();
    expect(store.maintained).toBe(1);
  });

  it('after a restart, a binding reloads as stored and refreshes against that', async () => {
    const { store, location } = setup();
    const b = binding();
    location.save(b);
    await location.close();
    const again = new LocationService({ persistence: store, clock: () => T0 + 1000 });
    await again.start();
    expect(again.get(b.aor, b.key)).toEqual(b);
    again.save(refresh(b, 1000));
    await again.flush();
    expect(store.upserts).toHaveLength(1);
    await again.close();
    expect(store.upserts).toHaveLength(2);
  });
});
