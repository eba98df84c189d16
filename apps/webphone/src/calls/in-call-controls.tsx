import type { ComponentChildren } from 'preact';
import { useT } from '../shell/controller-context.js';
import type { CallView } from '../state/call-view.js';
import type { UiState } from '../state/ui-state.js';
import type { CallScreenActions } from './call-screen-actions.js';
import { Keypad } from './keypad.js';
import { TransferPanel } from './transfer-panel.js';

/** A call in conversation: mute, hold, DTMF keypad, transfer, add call, swap; hang up. */
export function InCallControls(p: { call: CallView; others: CallView[]; actions: CallScreenActions; ui: UiState }) {
  const t = useT();
  const { call, others, actions, ui } = p;
  const toggle = (label: string, pressed: boolean, on: () => void): ComponentChildren => (
    <button aria-pressed={pressed} onClick={on}>
      {label}
    </button>
  );
  return (
    <div class="in-call">
      <div class="grid">
        {toggle(t('mute'), call.mute.audio, () => actions.toggleMute(call.id))}
        {toggle(t('hold'), call.hold.local, () => actions.toggleHold(call.id))}
        {toggle(t('keypad'), ui.keypadOpen.value, () => (ui.keypadOpen.value = !ui.keypadOpen.value))}
        {toggle(t('transfer'), ui.transferOpen.value, () => (ui.transferOpen.value = !ui.transferOpen.value))}
        <button
          onClick={() => {
            ui.addingCall.value = true;
            ui.page.value = 'dialpad';
          }}
        >
          {t('addCall')}
        </button>
        {others[0] ? <button onClick={() => actions.swapTo(others[0]!.id)}>{t('swap')}</button> : null}
      </div>
      {ui.keypadOpen.value ? <Keypad onPress={(k) => actions.dtmf(call.id, k)} /> : null}
      {ui.transferOpen.value ? (
        <TransferPanel call={call} others={others} actions={actions} onClose={() => (ui.transferOpen.value = false)} />
      ) : null}
      <div class="actions">
        <button class="danger" onClick={() => actions.hangup(call.id)}>
          {t('hangUp')}
        </button>
      </div>
    </div>
  );
}
