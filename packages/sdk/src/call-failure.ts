/**
 * Why an outgoing call did not connect, in terms a user understands: the SIP status of the
 * final response (RFC 3261 §21) and, where Handset sent one, its Reason header (RFC 3326).
 */

/** What went wrong, for the UI to put in words. */
export type CallFailure =
  | 'busy'
  | 'declined'
  | 'not-found'
  | 'no-answer'
  | 'unavailable'
  /** The two phones cannot share media (488/606: no common codec, or no media relay to bridge them). */
  | 'media'
  | 'cancelled'
  | 'failed';

/** The failure a final status (and its reason phrase) stands for. */
export function callFailureOf(statusCode: number | undefined, reasonPhrase?: string): CallFailure {
  if (statusCode === undefined) return 'failed';
  if (statusCode === 486 || statusCode === 600) return 'busy';
  if (statusCode === 603) return 'declined';
  if (statusCode === 404 || statusCode === 604 || statusCode === 484) return 'not-found';
  if (statusCode === 408) return 'no-answer';
  if (statusCode === 480) return /no answer/i.test(reasonPhrase ?? '') ? 'no-answer' : 'unavailable';
  if (statusCode === 488 || statusCode === 606) return 'media';
  if (statusCode === 487) return 'cancelled';
  if (statusCode >= 500) return 'unavailable';
  return 'failed';
}

/** The `text="..."` of a Reason header (`SIP;cause=488;text="Media not possible: ..."`), if any. */
export function reasonText(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /\btext\s*=\s*"((?:[^"\\]|\\.){0,300})"/i.exec(header);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}
