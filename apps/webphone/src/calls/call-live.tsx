import type { ReadonlySignal } from '@preact/signals';
import type { CallStats } from '@handset/sdk';
import { useT } from '../shell/controller-context.js';

/** m:ss */
export const fmtDuration = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** The call timer: seconds since this device saw the call answered (re-renders alone each second). */
export function CallTimer(p: { answeredAt: number | undefined; now: ReadonlySignal<number> }) {
  const s = p.answeredAt === undefined ? 0 : Math.max(0, (p.now.value - p.answeredAt) / 1000);
  return <span class="timer">{fmtDuration(s)}</span>;
}

/** The live quality line: grade, loss, jitter and round-trip time from the call's RTP statistics. */
export function QualityLine(p: { stats: CallStats | undefined }) {
  const t = useT();
  const q = p.stats?.quality;
  return (
    <p class="quality" data-grade={q?.grade}>
      {q
        ? t('quality', {
            grade: t(q.grade),
            loss: (q.packetLoss * 100).toFixed(1),
            jitter: Math.round(q.jitterMs),
            rtt: q.rttMs === null ? '–' : Math.round(q.rttMs),
          })
        : ''}
    </p>
  );
}
