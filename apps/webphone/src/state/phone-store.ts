import { signal, type ReadonlySignal, type Signal } from '@preact/signals';
import type { Call, CallRecord, CallStats, Phone } from '@handset/sdk';
import { CallState, ConnectionState, type RegistrationState } from './sdk-states.js';
import { callView, type CallView } from './call-view.js';

/** What the store needs of the SDK's Phone (its events and calls). */
export type PhoneLike = Pick<Phone, 'on' | 'registrationState'>;

/**
 * The phone's state as signals, fed by the SDK's events (never read back from the DOM):
 * registration, connection, the live calls as {@link CallView} snapshots, their RTP statistics
 * and a clock that ticks each second while a call is up (the timers).
 */
export class PhoneStore {
  private readonly reg: Signal<RegistrationState>;
  private readonly conn = signal<ConnectionState>(ConnectionState.Disconnected);
  private readonly views = signal<CallView[]>([]);
  private readonly statsById = signal<ReadonlyMap<string, CallStats>>(new Map());
  private readonly clock = signal(Date.now());
  private readonly live = new Map<string, Call>();
  private readonly answeredAt = new Map<string, number>();
  private tick: ReturnType<typeof setInterval> | undefined;

  constructor(
    phone: PhoneLike,
    private readonly o: { onEnded?: (c: Call, rec: CallRecord) => void; now?: () => number } = {},
  ) {
    this.reg = signal(phone.registrationState);
    phone.on('registrationStateChanged', (s) => (this.reg.value = s));
    phone.on('connectionStateChanged', (s) => (this.conn.value = s));
    phone.on('callAdded', (c) => this.add(c));
    phone.on('callEnded', (c, rec) => {
      this.live.delete(c.id);
      this.answeredAt.delete(c.id);
      const stats = new Map(this.statsById.value);
      stats.delete(c.id);
      this.statsById.value = stats;
      this.refresh();
      this.o.onEnded?.(c, rec);
    });
  }

  get registration(): ReadonlySignal<RegistrationState> {
    return this.reg;
  }
  get connection(): ReadonlySignal<ConnectionState> {
    return this.conn;
  }
  /** Live calls, oldest first. */
  get calls(): ReadonlySignal<CallView[]> {
    return this.views;
  }
  get stats(): ReadonlySignal<ReadonlyMap<string, CallStats>> {
    return this.statsById;
  }
  /** Milliseconds since the epoch, updated each second while a call is up. */
  get now(): ReadonlySignal<number> {
    return this.clock;
  }

  /** The SDK call behind a view (for actions and media). */
  call(id: string): Call | undefined {
    return this.live.get(id);
  }

  /** Stops the ticker (the phone was closed). */
  close(): void {
    clearInterval(this.tick);
    this.tick = undefined;
  }

  private add(c: Call): void {
    this.live.set(c.id, c);
    const refresh = () => this.refresh();
    c.on('stateChanged', refresh);
    c.on('hold', refresh);
    c.on('mute', refresh);
    c.on('remoteStream', refresh);
    this.refresh();
    this.ensureTicker();
  }

  private refresh(): void {
    const now = this.o.now?.() ?? Date.now();
    const views: CallView[] = [];
    for (const c of this.live.values()) {
      if (c.state === CallState.Ended) continue;
      if (c.state === CallState.Active && !this.answeredAt.has(c.id)) this.answeredAt.set(c.id, now);
      views.push(callView(c, this.answeredAt.get(c.id)));
    }
    this.views.value = views;
  }

  private ensureTicker(): void {
    if (this.tick) return;
    this.tick = setInterval(() => {
      if (this.live.size === 0) return this.close();
      this.clock.value = this.o.now?.() ?? Date.now();
      for (const c of this.live.values()) {
        if (c.state !== CallState.Active) continue;
        void c
          .getStats()
          .then((s) => {
            if (!this.live.has(c.id)) return;
            this.statsById.value = new Map(this.statsById.value).set(c.id, s);
          })
          .catch(() => undefined);
      }
    }, 1000);
  }
}
