// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api-client.js';
import { I18nContext, createI18n, uiMessages } from '../i18n.js';
import type { SignInFields, SignInMode } from '../session.js';
import { SignInForm } from './sign-in-form.js';

function mount(options: { sipLogin?: boolean; register?: boolean }, onSubmit = vi.fn(() => Promise.resolve())) {
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) };
  const i18n = createI18n(uiMessages, storage, ['en-US']);
  render(
    <I18nContext.Provider value={i18n}>
      <SignInForm title="Handset" options={{ sipLogin: false, register: false, ...options }} onSubmit={onSubmit} />
    </I18nContext.Provider>,
  );
  return { onSubmit, i18n };
}

const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

describe('SignInForm', () => {
  afterEach(cleanup);

  it('a refused sign-in keeps the e-mail, clears only the password, focuses it and says why', async () => {
    const onSubmit = vi.fn((_m: SignInMode, _f: SignInFields) =>
      Promise.reject(new ApiError(401, 'UNAUTHORIZED', 'wrong e-mail or password')),
    );
    mount({}, onSubmit);
    type('Email', 'ann@example.com');
    type('Password', 'not-it');
    fireEvent.submit(screen.getByRole('button', { name: 'Sign in' }).closest('form')!);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Sign-in failed: wrong e-mail or password');
    expect(onSubmit).toHaveBeenCalledWith('email', {
      email: 'ann@example.com',
      password: 'not-it',
      account: '',
      name: '',
    });
    expect(screen.getByLabelText<HTMLInputElement>('Email').value).toBe('ann@example.com');
    const password = screen.getByLabelText<HTMLInputElement>('Password');
    expect(password.value).toBe('');
    await waitFor(() => expect(document.activeElement).toBe(password));
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Sign in' }).disabled).toBe(false);
  });

  it('a server that cannot be reached is said in words', async () => {
    mount(
      {},
      vi.fn(() => Promise.reject(new ApiError(0, 'NETWORK', 'Failed to fetch'))),
    );
    type('Email', 'ann@example.com');
    type('Password', 'x');
    fireEvent.submit(screen.getByRole('button', { name: 'Sign in' }).closest('form')!);
    expect((await screen.findByRole('alert')).textContent).toBe('Sign-in failed: the server cannot be reached');
  });

  it('offers SIP account and sign-up only where the domain allows them', async () => {
    mount({});
    expect(screen.queryByRole('button', { name: 'SIP account' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Create an account' })).toBeNull();
    cleanup();

    const { onSubmit } = mount({ sipLogin: true, register: true });
    fireEvent.click(screen.getByRole('button', { name: 'SIP account' }));
    expect(screen.getByRole('button', { name: 'SIP account' }).getAttribute('aria-pressed')).toBe('true');
    type('SIP account (extension@domain)', '1001');
    type('SIP password', 'sip-secret');
    fireEvent.submit(screen.getByRole('button', { name: 'Sign in' }).closest('form')!);
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit).toHaveBeenCalledWith('sip', expect.objectContaining({ account: '1001', password: 'sip-secret' }));

    fireEvent.click(screen.getByRole('button', { name: 'Create an account' }));
    expect(screen.getByLabelText('Name')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create account' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Back to sign-in' }));
    expect(screen.getByLabelText('Email')).toBeTruthy();
  });

  it('switches to Tiếng Việt from its language picker', async () => {
    mount({});
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'vi' } });
    expect(await screen.findByRole('button', { name: 'Đăng nhập' })).toBeTruthy();
    expect(screen.getByLabelText('Mật khẩu')).toBeTruthy();
  });
});
