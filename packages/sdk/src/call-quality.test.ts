import { describe, expect, it } from 'vitest';
import { summarizeStats } from './call-quality.js';

describe('summarizeStats', () => {
  it('sums RTP counters per kind and derives loss, jitter and RTT', () => {
    const s = summarizeStats([
      {
        type: 'inbound-rtp',
        kind: 'audio',
        packetsReceived: 950,
        bytesReceived: 95_000,
        packetsLost: 50,
        jitter: 0.012,
      },
      {
        type: 'inbound-rtp',
        kind: 'video',
        packetsReceived: 1000,
        bytesReceived: 900_000,
        packetsLost: 0,
        jitter: 0.004,
      },
      { type: 'outbound-rtp', kind: 'audio', packetsSent: 990, bytesSent: 99_000 },
      { type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.08 },
      { type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.5 },
    ]);
    expect(s.audio).toEqual({ packetsReceived: 950, bytesReceived: 95_000, packetsSent: 990, bytesSent: 99_000 });
    expect(s.video.bytesReceived).toBe(900_000);
    expect(s.quality.packetLoss).toBeCloseTo(50 / 2000);
    expect(s.quality.jitterMs).toBe(12);
    // RTCP's RTT wins over the ICE pair's.
    expect(s.quality.rttMs).toBe(80);
    expect(s.quality.grade).toBe('fair');
  });

  it('falls back to the ICE pair RTT, grades heavy loss poor, and ignores junk entries', () => {
    const s = summarizeStats([
      { type: 'inbound-rtp', kind: 'audio', packetsReceived: 80, packetsLost: 20, jitter: 'x' },
      { type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.03 },
      { type: 'inbound-rtp', kind: 'data', packetsReceived: 1e9 },
      { type: 'outbound-rtp', kind: 'audio', packetsSent: Number.NaN },
    ]);
    expect(s.quality).toEqual({ packetLoss: 0.2, jitterMs: 0, rttMs: 30, grade: 'poor' });
    expect(s.audio.packetsSent).toBe(0);
  });

  it('reports nothing measured as zero loss and unknown RTT', () => {
    expect(summarizeStats([]).quality).toEqual({ packetLoss: 0, jitterMs: 0, rttMs: null, grade: 'good' });
  });
});
