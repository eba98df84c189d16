import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SendTarget } from '../transport.js';
import { CompletedResponses, type RetiredTransaction } from './completed-responses.js';
import type { Timers } from './timers.js';

/** A manual clock: `advance` fires what is due. */
function fakeTimers(): Timers & { advance(ms: number): void } {
  let now = 0;
  let pending: Array<{ at: number; callback: () => void }> = [];
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const t = { at: now + ms, callback };
      pending.push(t);
      return t;
    },
    clearTimeout(handle) {
      pending = pending.filter((t) => t !== handle);
    },
    advance(ms) {
      now += ms;
      for (;;) {
        const due = pending.filter((t) => t.at <= now);
        if (due.length === 0) return;
        pending = pending.filter((t) => t.at > now);
        for (const t of due) t.callback();
      }
    },
  };
}

const target: SendTarget = { protocol: 'udp', address: '192.0.2.1', port: 5060 };
const tx = (): RetiredTransaction & { ended: string[] } => {
  const ended: string[] = [];
  return {
    ended,
    retiredTimerJ: () => ended.push('J'),
    retiredTransportError: (e) => ended.push(e.message),
    dispose: () => ended.push('disposed'),
  };
};

describe('CompletedResponses', () => {
  it('gives back every response byte for byte, across many shared chunks and for one too big to share', () => {
    const timers = fakeTimers();
    const completed = new CompletedResponses(timers, 32_000, () => timers.now!());
    const sent = new Map<string, Buffer>();
    for (let i = 0; i < 3000; i++) {
      const wire = randomBytes(i === 1234 ? 40_000 : 200 + (i % 700));
      sent.set(`k${i}`, Buffer.from(wire));
      completed.add(`k${i}`, wire, target, tx(), false);
      wire.fill(0); // the caller's buffer may be reused once sent
    }
    expect(completed.size).toBe(3000);
    for (const [key, wire] of sent) {
      const got = completed.get(key)!;
      expect(got.target).toBe(target);
      expect(got.wire.equals(wire)).toBe(true);
    }
  });

  it('forgets each entry on its own Timer J, tells only the transactions that asked, and ends on clear', () => {
    const timers = fakeTimers();
    const completed = new CompletedResponses(timers, 32_000, () => timers.now!());
    const told = tx();
    const silent = tx();
    completed.add('a', Buffer.from('SIP/2.0 200 OK\r\n\r\n'), target, told, true);
    timers.advance(10_000);
    completed.add('b', Buffer.from('SIP/2.0 401 Unauthorized\r\n\r\n'), target, silent, false);
    timers.advance(22_000);
    expect(completed.get('a')).toBeUndefined();
    expect(completed.get('b')?.wire.toString()).toBe('SIP/2.0 401 Unauthorized\r\n\r\n');
    expect(told.ended).toEqual(['J']);
    timers.advance(10_000);
    expect(completed.size).toBe(0);
    expect(silent.ended).toEqual([]);

    const kept = tx();
    completed.add('c', Buffer.from('SIP/2.0 200 OK\r\n\r\n'), target, kept, true);
    completed.clear();
    expect(kept.ended).toEqual(['disposed']);
    expect(completed.get('c')).toBeUndefined();
  });
});
