/** RTP counters of one media kind, summed over its streams. */
export interface RtpCounters {
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
}

/** What a user sees as "call quality", from RTCPeerConnection.getStats(). */
export interface CallQuality {
  /** Fraction of inbound packets lost, 0..1 (RFC 3550 cumulative counters). */
  readonly packetLoss: number;
  /** Inbound interarrival jitter in milliseconds (the worst stream). */
  readonly jitterMs: number;
  /** Round-trip time in milliseconds (RTCP or the ICE pair), or null before it is measured. */
  readonly rttMs: number | null;
  /** A coarse grade for a quality indicator: loss > 5 %, jitter > 50 ms or RTT > 400 ms is poor. */
  readonly grade: 'good' | 'fair' | 'poor';
}

/** A call's statistics: counters per kind and the quality summary. */
export interface CallStats {
  readonly audio: RtpCounters;
  readonly video: RtpCounters;
  readonly quality: CallQuality;
}

/** One entry of an RTCStatsReport, as far as this module reads it. */
type StatsEntry = Record<string, unknown> & { type?: unknown; kind?: unknown };

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Reduces a getStats() report to {@link CallStats}. Takes any iterable of entries (an
 * RTCStatsReport's values(), or a plain array in tests).
 */
export function summarizeStats(entries: Iterable<StatsEntry>): CallStats {
  const zero = () => ({ packetsReceived: 0, bytesReceived: 0, packetsSent: 0, bytesSent: 0 });
  const kinds = { audio: zero(), video: zero() };
  let received = 0;
  let lost = 0;
  let jitterS = 0;
  let rttS: number | null = null;
  let pairRttS: number | null = null;
  for (const r of entries) {
    const kind = r.kind === 'video' ? 'video' : r.kind === 'audio' ? 'audio' : undefined;
    if (r.type === 'inbound-rtp' && kind) {
      kinds[kind].packetsReceived += num(r.packetsReceived);
      kinds[kind].bytesReceived += num(r.bytesReceived);
      received += num(r.packetsReceived);
      lost += Math.max(num(r.packetsLost), 0);
      jitterS = Math.max(jitterS, num(r.jitter));
    } else if (r.type === 'outbound-rtp' && kind) {
      kinds[kind].packetsSent += num(r.packetsSent);
      kinds[kind].bytesSent += num(r.bytesSent);
    } else if (r.type === 'remote-inbound-rtp' && typeof r.roundTripTime === 'number') {
      rttS = Math.max(rttS ?? 0, r.roundTripTime);
    } else if (r.type === 'candidate-pair' && r.nominated === true && typeof r.currentRoundTripTime === 'number') {
      pairRttS = r.currentRoundTripTime;
    }
  }
  const packetLoss = received + lost > 0 ? lost / (received + lost) : 0;
  const jitterMs = Math.round(jitterS * 1000 * 10) / 10;
  const rtt = rttS ?? pairRttS;
  const rttMs = rtt === null ? null : Math.round(rtt * 1000 * 10) / 10;
  const poor = packetLoss > 0.05 || jitterMs > 50 || (rttMs ?? 0) > 400;
  const fair = packetLoss > 0.01 || jitterMs > 20 || (rttMs ?? 0) > 200;
  return { ...kinds, quality: { packetLoss, jitterMs, rttMs, grade: poor ? 'poor' : fair ? 'fair' : 'good' } };
}
