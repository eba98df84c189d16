import { useT } from '../shell/controller-context.js';
import type { CallView } from '../state/call-view.js';
import type { CallScreenActions } from './call-screen-actions.js';

/** The second call (and any further): who, held or not, and a Swap to it. */
export function OtherCalls(p: { others: CallView[]; actions: CallScreenActions }) {
  const t = useT();
  if (p.others.length === 0) return null;
  return (
    <ul class="list others">
      {p.others.map((o) => (
        <li key={o.id}>
          <span class="grow">{`${o.label} · ${o.hold.local ? t('onHold') : o.state}`}</span>
          <button aria-label={t('swapTo', { name: o.label })} onClick={() => p.actions.swapTo(o.id)}>
            {t('swap')}
          </button>
        </li>
      ))}
    </ul>
  );
}
