import { useState } from 'preact/hooks';
import { CallState } from '../state/sdk-states.js';
import { useT } from '../shell/controller-context.js';
import type { CallView } from '../state/call-view.js';
import type { CallScreenActions } from './call-screen-actions.js';

/**
 * Transfer: to a number now (blind, REFER), or consult first (a second call; the first goes on
 * hold), then "Complete transfer" joins the two (attended, REFER with Replaces).
 */
export function TransferPanel(p: {
  call: CallView;
  others: CallView[];
  actions: CallScreenActions;
  onClose: () => void;
}) {
  const t = useT();
  const [to, setTo] = useState('');
  const consult = p.others.find((o) => o.state === CallState.Active);
  return (
    <div class="transfer">
      {consult ? (
        <button class="primary" onClick={() => p.actions.completeTransfer(p.call.id, consult.id)}>
          {t('completeTransfer')}
        </button>
      ) : null}
      <input
        id="transfer-to"
        type="tel"
        aria-label={t('transferTo')}
        placeholder={t('transferTo')}
        value={to}
        onInput={(e) => setTo(e.currentTarget.value)}
      />
      <button onClick={() => to.trim() && p.actions.transfer(p.call.id, to)}>{t('blindTransfer')}</button>
      <button onClick={() => to.trim() && void p.actions.dial(to)}>{t('consult')}</button>
      <button onClick={p.onClose}>{t('cancel')}</button>
    </div>
  );
}
