import { AGENT_STATES, type AgentState } from '../../api/webphone-api.js';
import type { MessageKey } from '../../messages.js';
import { useT } from '../../shell/controller-context.js';
import type { AgentStore } from '../../state/agent-store.js';

const STATE_LABEL: Record<AgentState, MessageKey> = {
  available: 'available',
  away: 'away',
  wrap_up: 'wrapUp',
  dnd: 'dnd',
};

const fmtTalk = (s: number) =>
  `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

/**
 * The Agent page: the status (kept by the server, so a reload or another device sees it) as a
 * group of toggle buttons, and today's call counters from the CDRs.
 */
export function AgentPage(p: { agent: AgentStore }) {
  const t = useT();
  const state = p.agent.state.value;
  const today = p.agent.today.value;
  const counter = (key: MessageKey, value: string | number) => [<dt>{t(key)}</dt>, <dd>{value}</dd>];
  return (
    <section class="page agent">
      <h2 id="agent-status">{t('agentStatus')}</h2>
      <div class="agent-states" role="group" aria-labelledby="agent-status">
        {AGENT_STATES.map((s) => (
          <button
            class={s === state ? 'primary' : 'secondary'}
            aria-pressed={s === state}
            onClick={() => s !== state && void p.agent.set(s)}
          >
            {t(STATE_LABEL[s])}
          </button>
        ))}
      </div>
      <p class="hint">{t('agentStateHint')}</p>
      <h2>{t('today')}</h2>
      {today ? (
        <dl class="agent-today" aria-label={t('today')}>
          {counter('callsTotal', today.total)}
          {counter('answeredCount', today.answered)}
          {counter('missed', today.missed)}
          {counter('outgoing', today.outgoing)}
          {counter('incomingShort', today.incoming)}
          {counter('talkTime', fmtTalk(today.talkS))}
        </dl>
      ) : (
        <p class="empty">…</p>
      )}
    </section>
  );
}
