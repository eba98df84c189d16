import { describe, expect, it } from 'vitest';
import { assertTransition, CallState, canTransition } from './call-state.js';
import { ErrorReason, HandsetError } from './handset-error.js';

describe('call state machine', () => {
  it('follows the outgoing and incoming paths of the diagram', () => {
    expect(canTransition(CallState.Calling, CallState.Early)).toBe(true);
    expect(canTransition(CallState.Early, CallState.Active)).toBe(true);
    expect(canTransition(CallState.Ringing, CallState.Answering)).toBe(true);
    expect(canTransition(CallState.Answering, CallState.Active)).toBe(true);
    expect(canTransition(CallState.Active, CallState.Ended)).toBe(true);
  });

  it('rejects moves out of Ended and backwards, with an invalid-state error', () => {
    expect(canTransition(CallState.Ended, CallState.Active)).toBe(false);
    expect(canTransition(CallState.Active, CallState.Ringing)).toBe(false);
    expect(canTransition(CallState.Calling, CallState.Answering)).toBe(false);
    try {
      assertTransition(CallState.Ended, CallState.Active);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HandsetError);
      expect((err as HandsetError).reason).toBe(ErrorReason.InvalidState);
    }
  });
});
