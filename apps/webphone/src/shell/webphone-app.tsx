import { I18nContext, SignInForm } from '@handset/ui';
import type { WebphoneController } from '../state/webphone-controller.js';
import { ControllerContext } from './controller-context.js';
import { PhoneShell } from './phone-shell.js';

/** The web phone: the sign-in form until a user is signed in and configured, then the phone. */
export function WebphoneApp(p: { controller: WebphoneController }) {
  const c = p.controller;
  const user = c.user.value;
  const options = c.signInOptions.value;
  return (
    <ControllerContext.Provider value={c}>
      <I18nContext.Provider value={c.i18n}>
        {user ? (
          <PhoneShell user={user} />
        ) : options ? (
          <SignInForm
            title={c.d.win.document.title || 'Handset'}
            options={options}
            onSubmit={(mode, fields) => c.signIn(mode, fields)}
          />
        ) : null}
      </I18nContext.Provider>
    </ControllerContext.Provider>
  );
}
