import { AGENT_STATES, type AgentState, type AgentSummary } from './api-client.js';
import { h } from './dom.js';
import type { MessageKey, Translate } from './i18n.js';

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
export function agentView(o: {
  t: Translate;
  state: AgentState;
  today: AgentSummary['today'] | undefined;
  onState: (s: AgentState) => void;
}): HTMLElement {
  const { t } = o;
  const today = o.today;
  const counter = (key: MessageKey, value: string | number) => [h('dt', {}, t(key)), h('dd', {}, value)];
  return h(
    'section',
    { class: 'page agent' },
    h('h2', { id: 'agent-status' }, t('agentStatus')),
    h(
      'div',
      { class: 'agent-states', role: 'group', 'aria-labelledby': 'agent-status' },
      ...AGENT_STATES.map((s) =>
        h(
          'button',
          {
            class: s === o.state ? 'primary' : 'secondary',
            'aria-pressed': String(s === o.state),
            onclick: () => s !== o.state && o.onState(s),
          },
          t(STATE_LABEL[s]),
        ),
      ),
    ),
    h('p', { class: 'hint' }, t('agentStateHint')),
    h('h2', {}, t('today')),
    today
      ? h(
          'dl',
          { class: 'agent-today', 'aria-label': t('today') },
          ...counter('callsTotal', today.total),
          ...counter('answeredCount', today.answered),
          ...counter('missed', today.missed),
          ...counter('outgoing', today.outgoing),
          ...counter('incomingShort', today.incoming),
          ...counter('talkTime', fmtTalk(today.talkS)),
        )
      : h('p', { class: 'empty' }, '…'),
  );
}
