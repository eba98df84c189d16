import type { Cdr } from '../api/webphone-api.js';

/** One line of the History page. */
export interface HistoryEntry {
  /** SIP Call-ID: the same call from the server and from this device is shown once. */
  callId: string;
  direction: 'incoming' | 'outgoing';
  /** The other party's number (user part). */
  number: string;
  name?: string | undefined;
  startedAt: number;
  durationS: number;
  missed: boolean;
  video?: boolean | undefined;
}

/** The user part of `sip:1002@example.com` / `1002@example.com` / `1002`. */
export function userPart(uri: string): string {
  return uri.replace(/^sips?:/i, '').split('@')[0] ?? uri;
}

/**
 * Server CDRs merged with this device's own records, newest first: a call in both appears once
 * (the local record wins, it knows the display name and video); at most `limit` entries.
 */
export function mergeHistory(
  local: readonly HistoryEntry[],
  cdrs: readonly Cdr[],
  selfExt: string,
  limit = 100,
): HistoryEntry[] {
  const byId = new Map<string, HistoryEntry>();
  for (const c of cdrs) {
    const outgoing = userPart(c.caller) === selfExt;
    byId.set(c.callId, {
      callId: c.callId,
      direction: outgoing ? 'outgoing' : 'incoming',
      number: userPart(outgoing ? c.callee : c.caller),
      startedAt: Date.parse(c.startedAt),
      durationS: c.durationS,
      missed: !outgoing && c.answeredAt === undefined,
    });
  }
  for (const e of local) byId.set(e.callId, { ...byId.get(e.callId), ...e });
  return [...byId.values()].sort((a, b) => b.startedAt - a.startedAt).slice(0, limit);
}
