import { signal, type ReadonlySignal, type Signal } from '@preact/signals';
import type { AgentState, AgentSummary } from '../api/webphone-api.js';

/** The agent's status (kept by the server) and today's counters. */
export class AgentStore {
  private readonly current: Signal<AgentState>;
  private readonly counters = signal<AgentSummary['today'] | undefined>(undefined);
  /** Counts the user's changes: a refresh that started before one must not undo it. */
  private changes = 0;

  constructor(
    initial: AgentState,
    private readonly api: {
      agent(since: Date): Promise<AgentSummary>;
      setAgentState(s: AgentState): Promise<AgentState>;
    },
    private readonly onError: (err: unknown) => void,
  ) {
    this.current = signal(initial);
  }

  get state(): ReadonlySignal<AgentState> {
    return this.current;
  }
  get today(): ReadonlySignal<AgentSummary['today'] | undefined> {
    return this.counters;
  }

  /** Re-reads the status and the counters since local midnight. */
  async refresh(): Promise<void> {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const before = this.changes;
    const a = await this.api.agent(midnight).catch(() => undefined);
    if (!a) return;
    if (before === this.changes) this.current.value = a.state;
    this.counters.value = a.today;
  }

  /** Shows the new status at once; back to the old one if the server refuses. */
  async set(next: AgentState): Promise<void> {
    const before = this.current.value;
    this.changes += 1;
    this.current.value = next;
    try {
      await this.api.setAgentState(next);
    } catch (err) {
      this.current.value = before;
      this.onError(err);
    }
  }
}
