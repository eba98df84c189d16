import { describe, expect, it } from 'vitest';
import { callLabel, currentCall, failureKey, type CallView } from './call-view.js';

const view = (id: string, state: CallView['state'], localHold = false): CallView => ({
  id,
  state,
  direction: 'outgoing',
  number: id,
  label: id,
  video: false,
  hold: { local: localHold, remote: false },
  mute: { audio: false, video: false },
  answeredAt: undefined,
});

describe('call views', () => {
  it('say why a call failed from the final SIP status, else from the cause; nothing when we ended it', () => {
    const end = (statusCode: number | undefined, cause = 'SIP Failure Code', by: 'local' | 'remote' = 'remote') => ({
      by,
      cause,
      statusCode,
      failed: true,
    });
    expect(failureKey(end(486))).toBe('callFailedBusy');
    expect(failureKey(end(600))).toBe('callFailedBusy');
    expect(failureKey(end(404))).toBe('callFailedNotFound');
    expect(failureKey(end(480))).toBe('callFailedNoAnswer');
    expect(failureKey(end(488))).toBe('callFailedMedia');
    expect(failureKey(end(603))).toBe('callFailedDeclined');
    expect(failureKey(end(403))).toBe('callFailedForbidden');
    expect(failureKey(end(undefined, 'Connection Error'))).toBe('callFailedConnection');
    expect(failureKey(end(undefined, 'User Denied Media Access'))).toBe('callFailedMicrophone');
    expect(failureKey(end(undefined, 'Incompatible SDP'))).toBe('callFailedMedia');
    expect(failureKey(end(487))).toBeUndefined();
    expect(failureKey(end(486, 'Busy', 'local'))).toBeUndefined();
    expect(failureKey({ by: 'remote', cause: 'Terminated', failed: false })).toBeUndefined();
  });

  it('show the ringing call first, else the newest not on hold', () => {
    expect(currentCall([view('a', 'active'), view('b', 'ringing')])?.id).toBe('b');
    expect(currentCall([view('a', 'active'), view('b', 'active', true)])?.id).toBe('a');
    expect(currentCall([view('a', 'active', true), view('b', 'active', true)])?.id).toBe('b');
    expect(currentCall([])).toBeUndefined();
  });

  it('name the other party by display name and number, or the number alone', () => {
    expect(callLabel('Bob', '1002')).toBe('Bob (1002)');
    expect(callLabel('1002', '1002')).toBe('1002');
    expect(callLabel(undefined, '1002')).toBe('1002');
  });
});
