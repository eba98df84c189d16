import { describe, expect, it } from 'vitest';
import { mergeHistory, userPart, type HistoryEntry } from './call-history.js';

describe('mergeHistory', () => {
  const cdr = (callId: string, caller: string, callee: string, at: string, answered = true) => ({
    callId,
    caller,
    callee,
    startedAt: at,
    durationS: answered ? 12 : 0,
    disposition: answered ? 'answered' : 'no-answer',
    ...(answered ? { answeredAt: at } : {}),
  });

  it('shows a call known to both the server and the device once, newest first', () => {
    const local: HistoryEntry[] = [
      {
        callId: 'a',
        direction: 'outgoing',
        number: '1002',
        name: 'Bob',
        startedAt: Date.parse('2026-01-01T10:00:00Z'),
        durationS: 12,
        missed: false,
      },
    ];
    const merged = mergeHistory(
      local,
      [
        cdr('a', 'sip:1001@x', 'sip:1002@x', '2026-01-01T10:00:00Z'),
        cdr('b', 'sip:1003@x', 'sip:1001@x', '2026-01-01T11:00:00Z', false),
      ],
      '1001',
    );
    expect(merged.map((e) => [e.callId, e.direction, e.number, e.missed])).toEqual([
      ['b', 'incoming', '1003', true],
      ['a', 'outgoing', '1002', false],
    ]);
    expect(merged[1]?.name).toBe('Bob');
  });

  it('reads the user part of SIP URIs', () => {
    expect(userPart('sip:1002@example.com')).toBe('1002');
    expect(userPart('1002')).toBe('1002');
  });
});
