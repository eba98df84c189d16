import type { SignInOptions } from './api-client.js';
import { h } from './dom.js';
import type { Translate } from './i18n.js';

/** The three ways in: e-mail and password, SIP account (where allowed), and sign-up (where offered). */
export type SignInMode = 'email' | 'sip' | 'signup';

/** What the form hands back on submit. */
export interface SignInFields {
  email: string;
  password: string;
  /** SIP mode: `ext@domain` (a bare extension gets the link's domain). */
  account: string;
  name: string;
}

/** Inputs of {@link signInView}. */
export interface SignInViewOptions {
  t: Translate;
  title: string;
  options: SignInOptions;
  mode: SignInMode;
  error: string;
  languagePicker: HTMLElement;
  onMode: (mode: SignInMode) => void;
  /** Resolves when signed in; a rejection's message is shown by the caller (which re-renders). */
  onSubmit: (mode: SignInMode, fields: SignInFields) => Promise<void>;
}

/**
 * The sign-in screen. E-mail and password always; "SIP account" only where the domain's
 * `webphone.sip_login` is on and "Create account" only where `webphone.register` is. Returns the
 * form and the field to focus.
 */
export function signInView(o: SignInViewOptions): { form: HTMLElement; focus: HTMLInputElement } {
  const { t } = o;
  const mode: SignInMode =
    (o.mode === 'sip' && !o.options.sipLogin) || (o.mode === 'signup' && !o.options.register) ? 'email' : o.mode;
  const input = (id: string, type: string, autocomplete: string, extra: Record<string, string | number> = {}) =>
    h('input', { type, id, name: id, autocomplete, required: true, ...extra });
  const name = input('name', 'text', 'name', { maxlength: 100 });
  const email = input('email', 'email', mode === 'signup' ? 'email' : 'username', { maxlength: 254 });
  const account = input('sip-account', 'text', 'username', { maxlength: 300, inputmode: 'email' });
  const password = input('password', 'password', mode === 'signup' ? 'new-password' : 'current-password', {
    maxlength: 256,
    ...(mode === 'signup' ? { minlength: 8 } : {}),
  });
  const field = (id: string, label: string, el: HTMLElement) => [h('label', { for: id }, label), el];
  const submit = h('button', { type: 'submit', class: 'primary' }, t(mode === 'signup' ? 'createAccount' : 'signIn'));
  const link = (m: SignInMode, key: 'backToSignIn' | 'signUp') =>
    h('button', { type: 'button', class: 'link', onclick: () => o.onMode(m) }, t(key));
  const methods =
    mode !== 'signup' && o.options.sipLogin
      ? h(
          'div',
          { class: 'sign-in-methods', role: 'group', 'aria-label': t('signInWith') },
          ...(['email', 'sip'] as const).map((m) =>
            h(
              'button',
              {
                type: 'button',
                class: m === mode ? 'current' : undefined,
                'aria-pressed': String(m === mode),
                onclick: () => m !== mode && o.onMode(m),
              },
              t(m === 'email' ? 'withEmail' : 'withSip'),
            ),
          ),
        )
      : null;
  const fields =
    mode === 'sip'
      ? [...field('sip-account', t('sipAccount'), account), ...field('password', t('sipPassword'), password)]
      : mode === 'signup'
        ? [
            ...field('name', t('name'), name),
            ...field('email', t('email'), email),
            ...field('password', t('password'), password),
          ]
        : [...field('email', t('email'), email), ...field('password', t('password'), password)];
  const signUpLink =
    mode === 'signup' ? link('email', 'backToSignIn') : o.options.register ? link('signup', 'signUp') : null;
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: (e) => {
        e.preventDefault();
        submit.disabled = true;
        submit.textContent = t(mode === 'signup' ? 'creatingAccount' : 'signingIn');
        void o.onSubmit(mode, {
          email: email.value.trim(),
          password: password.value,
          account: account.value.trim(),
          name: name.value.trim(),
        });
      },
    },
    h('img', { src: 'icons/icon.svg', alt: '', class: 'logo', width: 72, height: 72 }),
    h('h1', {}, o.options.brandName ?? o.title),
    methods,
    ...fields,
    o.error ? h('p', { role: 'alert', class: 'error' }, o.error) : null,
    submit,
    signUpLink,
    o.languagePicker,
  );
  return { form, focus: mode === 'sip' ? account : mode === 'signup' ? name : email };
}
