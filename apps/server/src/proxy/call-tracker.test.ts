import { describe, expect, it } from 'vitest';
import type { Cdr } from './cdr.js';
import { CallTracker } from './call-tracker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tracker on a clock the test moves; its sweep runs in real time (every 10 ms for an 80 ms timeout). */
function tracker(dialogTimeoutMs: number) {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const cdrs: Cdr[] = [];
  const calls = new CallTracker({
    sink: { insert: (c) => Promise.resolve(void cdrs.push(c)) },
    dialogTimeoutMs,
    clock: () => clock.now,
  });
  return { calls, cdrs, clock };
}

function start(calls: CallTracker, callId: string): void {
  calls.start({
    callId,
    domain: 'example.com',
    caller: '1001@example.com',
    callee: '1002@example.com',
    callerTag: 'from-tag',
    callerDevice: 'phone/1',
  });
}

/** Waits (real time) until `pred` holds; fails after 3 s. */
async function until(pred: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('CallTracker dialog timeout', () => {
  it('writes the CDR of an answered call whose BYE never came, once the dialog is silent that long', async () => {
    const { calls, cdrs, clock } = tracker(80);
    start(calls, 'lost-bye');
    clock.now += 20;
    calls.answered('lost-bye', 'phone/2');
    clock.now += 79;
    await sleep(60);
    expect(cdrs).toHaveLength(0);
    clock.now += 1;
    await until(() => cdrs.length === 1);
    expect(calls.has('lost-bye')).toBe(false);
    expect(cdrs[0]).toMatchObject({
      callId: 'lost-bye',
      disposition: 'answered',
      sipStatus: 408,
      sipReason: 'Dialog timeout',
      hangupBy: 'system',
      calleeDevice: 'phone/2',
      durationS: 0.1,
      billableS: 0.08,
    });
    await calls.close();
  });

  it('keeps a dialog alive while in-dialog requests come, and ends it after they stop', async () => {
    const { calls, cdrs, clock } = tracker(80);
    start(calls, 'talking');
    calls.answered('talking', undefined);
    for (let i = 0; i < 5; i++) {
      clock.now += 70;
      calls.touch('talking'); // a re-INVITE, an UPDATE, an ACK...
      await sleep(20);
    }
    expect(cdrs).toHaveLength(0);
    clock.now += 80;
    await until(() => cdrs.length === 1);
    expect(cdrs[0]).toMatchObject({ sipReason: 'Dialog timeout', billableS: 0.43 });
    await calls.close();
  });

  it('never times out a call that is still ringing, nor one that ended normally', async () => {
    const { calls, cdrs, clock } = tracker(80);
    start(calls, 'ringing');
    start(calls, 'hung-up');
    calls.answered('hung-up', undefined);
    calls.end('hung-up', { status: 200, reason: 'BYE', hangupBy: 'caller' });
    clock.now += 3_600_000; // an hour of ringing: not the dialog timeout's business
    await sleep(60);
    expect(calls.has('ringing')).toBe(true);
    expect(cdrs.map((c) => [c.callId, c.sipReason])).toEqual([['hung-up', 'BYE']]);
    // Shutdown ends what is left, with its own reason.
    await calls.close();
    expect(cdrs.map((c) => [c.callId, c.sipReason])).toEqual([
      ['hung-up', 'BYE'],
      ['ringing', 'Server shutting down'],
    ]);
  });
});
