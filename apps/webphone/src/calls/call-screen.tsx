import type { ReadonlySignal } from '@preact/signals';
import type { CallStats } from '@handset/sdk';
import { CallState } from '../state/sdk-states.js';
import { useT } from '../shell/controller-context.js';
import { statusKey, type CallView } from '../state/call-view.js';
import type { UiState } from '../state/ui-state.js';
import type { CallScreenActions } from './call-screen-actions.js';
import { CallMedia, type PeerConnectionOf } from './call-media.js';
import { CallTimer, QualityLine } from './call-live.js';
import { IncomingControls } from './incoming-controls.js';
import { InCallControls } from './in-call-controls.js';
import { OtherCalls } from './other-calls.js';

/** Inputs of {@link CallScreen}. */
export interface CallScreenProps {
  call: CallView;
  /** The other live calls (call waiting, consultation). */
  others: CallView[];
  actions: CallScreenActions;
  ui: UiState;
  now: ReadonlySignal<number>;
  stats: ReadonlySignal<ReadonlyMap<string, CallStats>>;
  peerConnection: PeerConnectionOf;
}

/**
 * The call screen of the call the phone is about: incoming (Answer, Decline), calling or ringing
 * (Hang up), or in conversation (the in-call controls, timer and quality line); the other calls below.
 */
export function CallScreen(p: CallScreenProps) {
  const t = useT();
  const { call } = p;
  const status = t(statusKey(call));
  const active = call.state === CallState.Active;
  return (
    <section class={`page call-screen state-${call.state}`} aria-label={status}>
      <CallMedia call={call} peerConnection={p.peerConnection} />
      <h2 class="peer">{call.label}</h2>
      <p class="status" role="status">
        {status}
        {active ? <CallTimer answeredAt={call.answeredAt} now={p.now} /> : null}
      </p>
      {active ? <QualityLine stats={p.stats.value.get(call.id)} /> : null}
      <OtherCalls others={p.others} actions={p.actions} />
      {call.state === CallState.Ringing ? (
        <IncomingControls call={call} actions={p.actions} />
      ) : active ? (
        <InCallControls call={call} others={p.others} actions={p.actions} ui={p.ui} />
      ) : (
        <div class="actions">
          <button class="danger" onClick={() => p.actions.hangup(call.id)}>
            {t('hangUp')}
          </button>
        </div>
      )}
    </section>
  );
}
