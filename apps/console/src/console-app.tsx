import { AppShell, I18nContext, Icon, LanguagePicker, SignInForm, ThemePicker, useT, type NavItem } from '@handset/ui';
import type { ConsoleController, ConsolePage } from './console-controller.js';
import type { MessageKey } from './messages.js';
import { DevicesPage } from './pages/devices/devices-page.js';

const DEVICES_ICON = 'M7 2h10a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zM11 18h2';

/** The device console: the sign-in form (owners, admins, superadmins), then the shell and its pages. */
export function ConsoleApp(p: { controller: ConsoleController }) {
  const c = p.controller;
  return (
    <I18nContext.Provider value={c.i18n}>
      {!c.ready.value ? null : c.principal.value ? <ConsoleShell controller={c} /> : <ConsoleSignIn controller={c} />}
    </I18nContext.Provider>
  );
}

function ConsoleSignIn(p: { controller: ConsoleController }) {
  const t = useT<MessageKey>();
  return (
    <SignInForm
      title={t('consoleTitle')}
      logo="/icons/icon.svg"
      options={{ sipLogin: false, register: false }}
      onSubmit={(mode, fields) => p.controller.signIn(mode, fields)}
    />
  );
}

function ConsoleShell(p: { controller: ConsoleController }) {
  const c = p.controller;
  const t = useT<MessageKey>();
  const me = c.principal.value;
  const pages: Array<{ page: ConsolePage; title: string; icon: string }> = [
    { page: 'devices', title: t('devices'), icon: DEVICES_ICON },
  ];
  const nav: NavItem[] = pages.map((n) => ({
    key: n.page,
    title: n.title,
    icon: n.icon,
    current: c.page.value === n.page,
    onSelect: () => (c.page.value = n.page),
  }));
  return (
    <AppShell
      title={t('consoleTitle')}
      status={<span class="reg">{me?.domain ?? me?.role}</span>}
      menu={
        <>
          <p class="who">
            <strong>{me?.email}</strong>
            <br />
            {me?.role}
          </p>
          <LanguagePicker />
          <label class="inline">
            {t('theme')} <ThemePicker store={c.theme} id="theme" />
          </label>
          <a href="/">
            <Icon path="M22 16.9v3a2 2 0 0 1-2.2 2A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3" size={16} />{' '}
            {t('webphone')}
          </a>
          <button onClick={() => void c.signOut()}>{t('signOut')}</button>
        </>
      }
      nav={nav}
      toast={c.toasts.message}
    >
      {c.page.value === 'devices' ? <DevicesPage /> : null}
    </AppShell>
  );
}
