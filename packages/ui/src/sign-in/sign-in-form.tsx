import { useEffect, useRef, useState } from 'preact/hooks';
import type { SignInOptions } from '../api-client.js';
import { useT } from '../i18n.js';
import type { SignInFields, SignInMode } from '../session.js';
import { errorText } from '../toasts.js';
import { LanguagePicker } from '../layout/pickers.js';

/** Inputs of {@link SignInForm}. */
export interface SignInFormProps {
  title: string;
  options: SignInOptions;
  /** Resolves once signed in; a rejection is shown on the form. */
  onSubmit: (mode: SignInMode, fields: SignInFields) => Promise<void>;
  /** The app's icon above the title. */
  logo?: string;
}

const EMPTY: SignInFields = { email: '', password: '', account: '', name: '' };

/**
 * The sign-in screen. E-mail and password always; "SIP account" only where the domain allows it
 * (`webphone.sip_login`) and "Create an account" only where sign-up is on. A refused sign-in keeps
 * what was typed except the password, which is cleared and focused for the next try.
 */
export function SignInForm(p: SignInFormProps) {
  const t = useT();
  const [chosen, setMode] = useState<SignInMode>('email');
  const [fields, setFields] = useState<SignInFields>(EMPTY);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  const mode: SignInMode =
    (chosen === 'sip' && !p.options.sipLogin) || (chosen === 'signup' && !p.options.register) ? 'email' : chosen;
  useEffect(() => first.current?.focus(), [mode]);

  const switchTo = (m: SignInMode) => {
    setMode(m);
    setError('');
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const trimmed = { ...fields, email: fields.email.trim(), account: fields.account.trim(), name: fields.name.trim() };
    p.onSubmit(mode, trimmed).then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setFields((f) => ({ ...f, password: '' }));
        setError(t(mode === 'signup' ? 'signUpFailed' : 'signInFailed', { reason: errorText(err, t('networkError')) }));
        // After the re-render that enabled the field again.
        setTimeout(() => password.current?.focus(), 0);
      },
    );
  };
  const bind = (k: keyof SignInFields) => ({
    value: fields[k],
    onInput: (e: Event) => {
      const v = (e.currentTarget as HTMLInputElement).value;
      setFields((f) => ({ ...f, [k]: v }));
    },
  });
  const labelled = (id: string, label: string, input: preact.JSX.Element) => [<label for={id}>{label}</label>, input];
  const emailField = labelled(
    'email',
    t('email'),
    <input
      ref={mode === 'email' ? first : undefined}
      id="email"
      name="email"
      type="email"
      autocomplete={mode === 'signup' ? 'email' : 'username'}
      required
      maxlength={254}
      {...bind('email')}
    />,
  );
  const passwordField = labelled(
    'password',
    t(mode === 'sip' ? 'sipPassword' : 'password'),
    <input
      ref={password}
      id="password"
      name="password"
      type="password"
      autocomplete={mode === 'signup' ? 'new-password' : 'current-password'}
      required
      maxlength={256}
      minlength={mode === 'signup' ? 8 : undefined}
      {...bind('password')}
    />,
  );
  return (
    <form class="sign-in" onSubmit={submit}>
      <img src={p.logo ?? 'icons/icon.svg'} alt="" class="logo" width={72} height={72} />
      <h1>{p.options.brandName ?? p.title}</h1>
      {mode !== 'signup' && p.options.sipLogin ? (
        <div class="sign-in-methods" role="group" aria-label={t('signInWith')}>
          {(['email', 'sip'] as const).map((m) => (
            <button
              type="button"
              class={m === mode ? 'current' : undefined}
              aria-pressed={m === mode}
              onClick={() => m !== mode && switchTo(m)}
            >
              {t(m === 'email' ? 'withEmail' : 'withSip')}
            </button>
          ))}
        </div>
      ) : null}
      {mode === 'signup'
        ? labelled(
            'name',
            t('name'),
            <input
              ref={first}
              id="name"
              name="name"
              type="text"
              autocomplete="name"
              required
              maxlength={100}
              {...bind('name')}
            />,
          )
        : null}
      {mode === 'sip'
        ? labelled(
            'sip-account',
            t('sipAccount'),
            <input
              ref={first}
              id="sip-account"
              name="sip-account"
              type="text"
              autocomplete="username"
              inputmode="email"
              required
              maxlength={300}
              {...bind('account')}
            />,
          )
        : emailField}
      {passwordField}
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        {t(mode === 'signup' ? (busy ? 'creatingAccount' : 'createAccount') : busy ? 'signingIn' : 'signIn')}
      </button>
      {mode === 'signup' ? (
        <button type="button" class="link" onClick={() => switchTo('email')}>
          {t('backToSignIn')}
        </button>
      ) : p.options.register ? (
        <button type="button" class="link" onClick={() => switchTo('signup')}>
          {t('signUp')}
        </button>
      ) : null}
      <LanguagePicker />
    </form>
  );
}
