import { signal, type ReadonlySignal } from '@preact/signals';
import type { CallRecord } from '@handset/sdk';
import type { Cdr } from '../api/webphone-api.js';
import { mergeHistory, userPart, type HistoryEntry } from './call-history.js';

const key = (ext: string) => `handset.history.${ext}`;

/** The History page's entries: this device's own calls (kept in storage) merged with the server's CDRs. */
export class HistoryStore {
  private readonly list = signal<HistoryEntry[]>([]);

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'>,
    private readonly ext: string,
    private readonly cdrs: () => Promise<Cdr[]>,
  ) {
    this.list.value = mergeHistory(this.local(), [], ext);
  }

  get entries(): ReadonlySignal<HistoryEntry[]> {
    return this.list;
  }

  /** Re-reads the server's CDRs (a failure keeps what is shown). */
  async refresh(): Promise<void> {
    const cdrs = await this.cdrs().catch(() => []);
    this.list.value = mergeHistory(this.local(), cdrs, this.ext);
  }

  /** A call of this device ended: it is listed at once, and again with the server's CDR a moment later. */
  record(rec: CallRecord): void {
    const entry: HistoryEntry = {
      callId: rec.callId,
      direction: rec.direction,
      number: userPart(rec.remoteUri),
      name: rec.remoteDisplayName,
      startedAt: rec.startedAt,
      durationS: rec.durationS,
      missed: rec.direction === 'incoming' && rec.answeredAt === undefined,
      video: rec.video,
    };
    const local = [entry, ...this.local().filter((e) => e.callId !== entry.callId)].slice(0, 200);
    this.storage.setItem(key(this.ext), JSON.stringify(local));
    this.list.value = mergeHistory(local, [], this.ext);
    // The CDR is written within a moment; refresh then so server and local merge.
    setTimeout(() => void this.refresh(), 1500);
  }

  private local(): HistoryEntry[] {
    try {
      const v = JSON.parse(this.storage.getItem(key(this.ext)) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as HistoryEntry[]) : [];
    } catch {
      return [];
    }
  }
}
