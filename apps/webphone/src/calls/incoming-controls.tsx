import { useT } from '../shell/controller-context.js';
import type { CallView } from '../state/call-view.js';
import type { CallScreenActions } from './call-screen-actions.js';

/** A call ringing in: Answer (the call in conversation goes on hold) or Decline (486). */
export function IncomingControls(p: { call: CallView; actions: CallScreenActions }) {
  const t = useT();
  return (
    <div class="actions">
      <button class="primary answer" onClick={() => p.actions.answer(p.call.id)}>
        {t('answer')}
      </button>
      <button class="danger" onClick={() => p.actions.decline(p.call.id)}>
        {t('decline')}
      </button>
    </div>
  );
}
