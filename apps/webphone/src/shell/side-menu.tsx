import { LanguagePicker } from '@handset/ui';
import { useController, useT } from './controller-context.js';
import type { SignedIn } from '../state/webphone-controller.js';

/** Who is signed in, the balance (where shown), language, sign out and the build id. */
export function SideMenu(p: { user: SignedIn }) {
  const c = useController();
  const t = useT();
  const cfg = p.user.config;
  const lang = c.i18n.lang.value;
  const balance =
    cfg.config.flags.displayBalance && cfg.balance !== null
      ? cfg.currency
        ? cfg.balance.toLocaleString(lang, { style: 'currency', currency: cfg.currency })
        : cfg.balance.toFixed(2)
      : undefined;
  return (
    <>
      <p class="who">
        <strong>{p.user.overrides.displayName ?? cfg.sip.displayName}</strong>
        <br />
        {`${cfg.sip.username}@${cfg.sip.domain}`}
      </p>
      {balance !== undefined ? <p class="balance">{t('balance', { balance })}</p> : null}
      <LanguagePicker />
      <button onClick={() => void c.signOut()}>{t('signOut')}</button>
      {cfg.config.flags.hideUuid ? null : <p class="build">{t('build', { uuid: c.d.buildUuid })}</p>}
    </>
  );
}
