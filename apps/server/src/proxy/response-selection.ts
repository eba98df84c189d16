/** Choosing the best final response among forked branches (RFC 3261 §16.7 step 6). */
import type { SipResponse } from '@handset/sip';

/**
 * The response to send upstream when every branch has a final non-2xx response.
 * 6xx wins; otherwise the lowest class; inside 4xx, 401/407/415/420/484 are preferred
 * because the caller can act on them. Returns undefined for an empty list.
 */
export function selectBestResponse(responses: readonly SipResponse[]): SipResponse | undefined {
  let best: SipResponse | undefined;
  let bestRank = Infinity;
  for (const r of responses) {
    const rank = rankOf(r.status);
    if (rank < bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best;
}

function rankOf(status: number): number {
  if (status >= 600) return 0;
  const cls = Math.floor(status / 100);
  // §16.7 step 6: "if there are any 6xx ... otherwise the lowest response class"; prefer actionable 4xx
  const preferred = status === 401 || status === 407 || status === 415 || status === 420 || status === 484;
  // 503 would tell the caller to stop using us; §16.7 step 6 converts it to 500, and ranks it low.
  const penalty = status === 503 ? 0.5 : status === 408 ? 0.4 : status === 480 ? 0.3 : preferred ? 0 : 0.1;
  return cls + penalty;
}

/**
 * Merges the challenges of every 401/407 branch into the chosen one (§16.7 step 7), so the
 * caller can answer all of them.
 */
export function mergeChallenges(best: SipResponse, all: readonly SipResponse[]): void {
  if (best.status !== 401 && best.status !== 407) return;
  for (const r of all) {
    if (r === best || (r.status !== 401 && r.status !== 407)) continue;
    for (const name of ['WWW-Authenticate', 'Proxy-Authenticate'])
      for (const v of r.getHeaders(name)) best.appendHeader(name, v);
  }
}
