import { Icon } from '@handset/ui';
import { fmtDuration } from '../../calls/call-live.js';
import { PHONE_ICON } from '../../icons.js';
import { useController, useT } from '../../shell/controller-context.js';
import type { HistoryStore } from '../../state/history-store.js';

/** History: server CDRs merged with this device's calls, newest first; one tap calls back. */
export function HistoryPage(p: { history: HistoryStore }) {
  const c = useController();
  const t = useT();
  const lang = c.i18n.lang.value;
  const entries = p.history.entries.value;
  if (entries.length === 0)
    return (
      <section class="page">
        <p class="empty">{t('noHistory')}</p>
      </section>
    );
  return (
    <section class="page">
      <ul class="list history" aria-label={t('history')}>
        {entries.map((e) => (
          <li key={e.callId} class={e.missed ? 'missed' : undefined}>
            <div class="grow">
              <strong>{e.name ? `${e.name} (${e.number})` : e.number}</strong>
              <br />
              <small>
                {`${e.missed ? t('missed') : t(e.direction === 'outgoing' ? 'outgoing' : 'incomingShort')} · ${new Date(e.startedAt).toLocaleString(lang)} · ${fmtDuration(e.durationS)}`}
              </small>
            </div>
            <button
              class="icon call"
              aria-label={t('callBack', { number: e.number })}
              onClick={() => void c.actions.dial(e.number)}
            >
              <Icon path={PHONE_ICON} />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
