import { describe, expect, it, vi } from 'vitest';
import type { AgentState, AgentSummary } from '../api/webphone-api.js';
import { AgentStore } from './agent-store.js';

const today = { total: 1, outgoing: 0, incoming: 1, answered: 1, missed: 0, talkS: 30 };

describe('AgentStore', () => {
  it('a status read that started before the user chose another does not undo the choice', async () => {
    let answer: (a: AgentSummary) => void = () => undefined;
    const api = {
      agent: () => new Promise<AgentSummary>((r) => (answer = r)),
      setAgentState: vi.fn((s: AgentState) => Promise.resolve(s)),
    };
    const store = new AgentStore('available', api, () => undefined);
    const reading = store.refresh();
    await store.set('dnd');
    answer({ state: 'available', today });
    await reading;
    expect(store.state.value).toBe('dnd');
    expect(store.today.value).toEqual(today);
    expect(api.setAgentState).toHaveBeenCalledWith('dnd');
  });

  it('goes back to the previous status when the server refuses, and says why', async () => {
    const onError = vi.fn();
    const store = new AgentStore(
      'away',
      { agent: () => Promise.reject(new Error('x')), setAgentState: () => Promise.reject(new Error('forbidden')) },
      onError,
    );
    await store.set('available');
    expect(store.state.value).toBe('away');
    expect(onError).toHaveBeenCalledWith(new Error('forbidden'));
  });
});
