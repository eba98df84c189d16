import type { Call, CallEnd, HoldState, MuteState } from '@handset/sdk';
import { CallState } from './sdk-states.js';
import type { MessageKey } from '../messages.js';
import { userPart } from './call-history.js';

/** What the call screens show of a call: a snapshot taken on each of its SDK events. */
export interface CallView {
  readonly id: string;
  readonly state: CallState;
  readonly direction: 'incoming' | 'outgoing';
  /** The other party's number (user part of the URI). */
  readonly number: string;
  /** "Name (number)", or the number alone. */
  readonly label: string;
  readonly video: boolean;
  readonly hold: HoldState;
  readonly mute: MuteState;
  /** When this device saw the call answered (the timer starts there). */
  readonly answeredAt: number | undefined;
}

/** "Bob (1002)" when the display name says more than the number, else "1002". */
export function callLabel(displayName: string | undefined, number: string): string {
  return displayName && displayName !== number ? `${displayName} (${number})` : number;
}

/** A snapshot of `c`; `answeredAt` is kept by the caller (the first time it was seen active). */
export function callView(c: Call, answeredAt: number | undefined): CallView {
  const number = userPart(c.remoteUri);
  return {
    id: c.id,
    state: c.state,
    direction: c.direction,
    number,
    label: callLabel(c.remoteDisplayName, number),
    video: c.video,
    hold: c.holdState,
    mute: c.muteState,
    answeredAt,
  };
}

/** The status line of a call screen. */
export function statusKey(c: CallView): MessageKey {
  if (c.state === CallState.Ringing) return c.video ? 'incomingVideo' : 'incoming';
  if (c.state === CallState.Calling) return 'calling';
  if (c.state === CallState.Early) return 'ringing';
  return c.hold.local || c.hold.remote ? 'onHold' : 'connected';
}

/** The call the screen is about: one ringing in first, else the newest live one not on local hold. */
export function currentCall(live: readonly CallView[]): CallView | undefined {
  return (
    live.find((c) => c.state === CallState.Ringing) ??
    [...live].reverse().find((c) => !c.hold.local) ??
    live[live.length - 1]
  );
}

/**
 * Why an outgoing call did not connect, in words, or undefined when there is nothing to say (the
 * user hung up or cancelled it). From the SIP status of the final answer (RFC 3261 §21) first,
 * then the SDK's cause.
 */
export function failureKey(end: CallEnd): MessageKey | undefined {
  if (!end.failed || end.by === 'local') return undefined;
  switch (end.statusCode) {
    case 486:
    case 600:
      return 'callFailedBusy';
    case 404:
    case 484:
    case 604:
      return 'callFailedNotFound';
    case 408:
    case 480:
      return 'callFailedNoAnswer';
    case 488:
    case 606:
      return 'callFailedMedia';
    case 603:
      return 'callFailedDeclined';
    case 403:
      return 'callFailedForbidden';
    case 487:
      return undefined;
    default:
      break;
  }
  const cause = end.cause.toLowerCase();
  if (cause.includes('busy')) return 'callFailedBusy';
  if (cause.includes('not found') || cause.includes('address incomplete')) return 'callFailedNotFound';
  if (cause.includes('no answer') || cause.includes('request timeout')) return 'callFailedNoAnswer';
  if (/incompatible sdp|bad media|not acceptable/.test(cause)) return 'callFailedMedia';
  if (cause.includes('rejected')) return 'callFailedDeclined';
  if (cause.includes('user denied media')) return 'callFailedMicrophone';
  if (cause.includes('connection')) return 'callFailedConnection';
  if (cause.includes('unavailable')) return 'callFailedUnavailable';
  return undefined;
}
