import { HandsetError } from './handset-error.js';

/**
 * Where a call is. Hold and mute are flags beside the state, not states.
 *
 * ```
 * outgoing:  Calling --1xx--> Early --2xx--> Active --BYE--> Ended
 *               \______________\___________________________/
 * incoming:  Ringing --answer()--> Answering --ACK--> Active --> Ended
 *               \__________ reject / CANCEL ___________________/
 * ```
 */
export enum CallState {
  /** Outgoing INVITE sent, nothing heard yet. */
  Calling = 'calling',
  /** Outgoing, the callee is ringing (180/183). */
  Early = 'early',
  /** Incoming, not yet answered. */
  Ringing = 'ringing',
  /** Incoming, answered locally, waiting for the ACK. */
  Answering = 'answering',
  /** Media is set up (possibly on hold). */
  Active = 'active',
  /** Terminal: hung up, rejected, cancelled or failed. */
  Ended = 'ended',
}

const ALLOWED: Readonly<Record<CallState, readonly CallState[]>> = {
  [CallState.Calling]: [CallState.Early, CallState.Active, CallState.Ended],
  [CallState.Early]: [CallState.Active, CallState.Ended],
  [CallState.Ringing]: [CallState.Answering, CallState.Active, CallState.Ended],
  [CallState.Answering]: [CallState.Active, CallState.Ended],
  [CallState.Active]: [CallState.Ended],
  [CallState.Ended]: [],
};

/** True when a call may move from `from` to `to`. */
export function canTransition(from: CallState, to: CallState): boolean {
  return ALLOWED[from].includes(to);
}

/** Throws {@link HandsetError} (invalid-state) when the move is not in the diagram. */
export function assertTransition(from: CallState, to: CallState): void {
  if (!canTransition(from, to)) throw HandsetError.invalidState(`move a call to ${to}`, from);
}
