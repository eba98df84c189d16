import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus } from './event-bus.js';
import type { PlatformEvent } from './platform-event.js';
import { RedisEventRelay } from './redis-event-relay.js';
import { TEST_REDIS_URL, testRedisUp } from '../cluster/cluster-test-support.js';

const REDIS_URL = TEST_REDIS_URL;

const up = await testRedisUp();
const channel = `handset:test:${randomBytes(4).toString('hex')}`;
const relays: RedisEventRelay[] = [];
afterAll(async () => {
  for (const r of relays) await r.close();
});

const event = (id: string): PlatformEvent => ({
  type: 'user.created',
  domain: 'a.example',
  domainId: 'd1',
  at: '2030-01-01T00:00:00.000Z',
  payload: { id },
});

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error('condition not met in time');
}

describe.skipIf(!up)('RedisEventRelay', () => {
  it('carries events to the other node once, never back to the sender, and not to local-only subscribers', async () => {
    const [ra, rb] = await Promise.all([
      RedisEventRelay.connect({ url: REDIS_URL, channel }),
      RedisEventRelay.connect({ url: REDIS_URL, channel }),
    ]);
    relays.push(ra, rb);
    const a = new EventBus({ relay: ra });
    const b = new EventBus({ relay: rb });
    const onA: PlatformEvent[] = [];
    const onB: PlatformEvent[] = [];
    const localB: PlatformEvent[] = [];
    a.subscribe((e) => onA.push(e));
    b.subscribe((e) => onB.push(e));
    b.subscribeLocal((e) => localB.push(e));
    a.publish(event('u1'));
    b.publish(event('u2'));
    await until(() => onB.length === 2 && onA.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(onA.map((e) => e.payload)).toEqual([{ id: 'u1' }, { id: 'u2' }]);
    expect(onB.map((e) => (e.payload as { id: string }).id).sort()).toEqual(['u1', 'u2']);
    expect(localB.map((e) => e.payload)).toEqual([{ id: 'u2' }]);
    expect(onB.find((e) => (e.payload as { id: string }).id === 'u1')).toMatchObject({
      type: 'user.created',
      domain: 'a.example',
      domainId: 'd1',
    });
  });

  it('drops foreign or malformed messages on the channel and keeps relaying', async () => {
    const r = await RedisEventRelay.connect({ url: REDIS_URL, channel: `${channel}:x` });
    relays.push(r);
    const got: PlatformEvent[] = [];
    r.subscribe((e) => got.push(e));
    const raw = new Redis(REDIS_URL);
    try {
      for (const junk of [
        'not json',
        '{"event": 1}',
        '{"node":"x","event":{"type":"user.created","at":"t","payload":{}}}',
        JSON.stringify({ node: 'x', event: { ...event('big'), payload: { id: 'x'.repeat(2 << 20) } } }),
        '\u0000\uffff',
      ])
        await raw.publish(`${channel}:x`, junk);
      await raw.publish(`${channel}:x`, JSON.stringify({ node: 'other', event: event('ok') }));
      await until(() => got.length > 0);
      expect(got.map((e) => e.payload)).toEqual([{ id: 'ok' }]);
    } finally {
      raw.disconnect();
    }
    await r.close();
    await r.close();
  });

  it('fails to connect to an unreachable Redis with an error instead of hanging', async () => {
    const err = await RedisEventRelay.connect({ url: 'redis://127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });
});
