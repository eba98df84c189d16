import { signal } from '@preact/signals';
import { render, type ComponentChildren } from 'preact';
import { I18nContext, SignInForm, createI18n } from '@handset/ui';
import type { CallStats } from '@handset/sdk';
import { CallScreen } from '../calls/call-screen.js';
import type { CallScreenActions } from '../calls/call-screen-actions.js';
import { messages } from '../messages.js';
import { AgentPage } from '../pages/agent/agent-page.js';
import { AgentStore } from '../state/agent-store.js';
import type { CallView } from '../state/call-view.js';
import { CallState } from '../state/sdk-states.js';
import { UiState } from '../state/ui-state.js';

/**
 * The web phone's parts one by one, with made-up data and no server: `npm run gallery -w
 * apps/webphone` serves this page. Each story is a component in one state; the buttons log what
 * they would do.
 */
const i18n = createI18n(messages, localStorage, navigator.languages);
const log =
  (what: string) =>
  (...a: unknown[]) =>
    console.info(`[gallery] ${what}`, ...a); // eslint-disable-line no-console
const actions: CallScreenActions = {
  answer: log('answer'),
  decline: log('decline'),
  hangup: log('hangup'),
  toggleMute: log('mute'),
  toggleHold: log('hold'),
  dtmf: log('dtmf'),
  swapTo: log('swap'),
  transfer: log('transfer'),
  completeTransfer: log('complete transfer'),
  dial: (...a) => Promise.resolve(log('dial')(...a)),
};
const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 1000);
const stats = signal<ReadonlyMap<string, CallStats>>(
  new Map([['c1', { quality: { grade: 'good', packetLoss: 0.004, jitterMs: 6, rttMs: 42 } } as unknown as CallStats]]),
);
const call = (id: string, state: CallView['state'], more: Partial<CallView> = {}): CallView => ({
  id,
  state,
  direction: 'incoming',
  number: '1002',
  label: 'Bob (1002)',
  video: false,
  hold: { local: false, remote: false },
  mute: { audio: false, video: false },
  answeredAt: Date.now() - 75_000,
  ...more,
});
const ui = (open: Partial<{ keypad: boolean; transfer: boolean }> = {}) => {
  const u = new UiState();
  u.keypadOpen.value = open.keypad ?? false;
  u.transferOpen.value = open.transfer ?? false;
  return u;
};
const screen = (c: CallView, others: CallView[] = [], u = ui()) => (
  <CallScreen
    call={c}
    others={others}
    actions={actions}
    ui={u}
    now={now}
    stats={stats}
    peerConnection={() => undefined}
  />
);
const agent = new AgentStore(
  'away',
  {
    agent: () =>
      Promise.resolve({
        state: 'away',
        today: { total: 12, outgoing: 5, incoming: 7, answered: 6, missed: 1, talkS: 2710 },
      }),
    setAgentState: (s) => Promise.resolve(s),
  },
  log('agent error'),
);
void agent.refresh();

const stories: Array<[string, ComponentChildren]> = [
  [
    'Sign-in',
    <SignInForm
      title="Handset"
      options={{ sipLogin: false, register: false }}
      onSubmit={() => Promise.reject(new Error('wrong e-mail or password'))}
    />,
  ],
  [
    'Sign-in: SIP account and sign-up offered',
    <SignInForm title="Acme Phone" options={{ sipLogin: true, register: true }} onSubmit={() => Promise.resolve()} />,
  ],
  ['Incoming call', screen(call('c0', CallState.Ringing))],
  ['Calling', screen(call('c0', CallState.Calling, { direction: 'outgoing' }))],
  ['In call', screen(call('c1', CallState.Active))],
  ['In call: keypad open', screen(call('c1', CallState.Active), [], ui({ keypad: true }))],
  [
    'Second call: call waiting',
    screen(call('c2', CallState.Ringing, { label: 'Carol (1003)', number: '1003' }), [call('c1', CallState.Active)]),
  ],
  [
    'Transfer: consult, then complete',
    screen(
      call('c1', CallState.Active, { label: 'Carol (1003)' }),
      [call('c0', CallState.Active, { hold: { local: true, remote: false } })],
      ui({ transfer: true }),
    ),
  ],
  ['Agent', <AgentPage agent={agent} />],
];

function Gallery() {
  return (
    <I18nContext.Provider value={i18n}>
      {stories.map(([title, node]) => (
        <section class="story" aria-label={title}>
          <h3 class="story-title">{title}</h3>
          <div class="app">{node}</div>
        </section>
      ))}
    </I18nContext.Provider>
  );
}

render(<Gallery />, document.getElementById('app') ?? document.body);
