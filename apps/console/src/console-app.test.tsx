// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleApp } from './console-app.js';
import { ConsoleController } from './console-controller.js';

/** A console over a stubbed /api/v1 whose sign-in answers a principal of `role`. */
async function consoleFor(role: string) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      const body = url.endsWith('/auth/login')
        ? { token: 'hss_t' }
        : url.endsWith('/auth/me')
          ? { role, email: `${role}@example.com`, domain: 'example.com', via: 'session' }
          : {};
      const status = url.endsWith('/auth/logout') ? 204 : 200;
      return Promise.resolve(new Response(status === 204 ? null : JSON.stringify(body), { status }));
    }),
  );
  const store = new Map<string, string>();
  const storage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  } as Storage;
  const c = new ConsoleController({ win: window, storage, apiBase: '/api/v1' });
  await c.start();
  render(<ConsoleApp controller={c} />);
  fireEvent.input(screen.getByLabelText('Email'), { target: { value: `${role}@example.com` } });
  fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'secret-pass' } });
  fireEvent.submit(screen.getByRole('button', { name: 'Sign in' }).closest('form')!);
  return { calls, store };
}

describe('the device console', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  for (const role of ['owner', 'admin', 'superadmin'])
    it(`signs in ${role}s: its shell with navigation and the Devices page`, async () => {
      const { store } = await consoleFor(role);
      expect(await screen.findByRole('heading', { name: 'Devices' })).toBeTruthy();
      expect(screen.getByRole('navigation').textContent).toContain('Devices');
      expect(screen.getByText(/^No devices yet/)).toBeTruthy();
      // Its own session: the web phone's token in the same browser is left alone.
      expect(store.get('handset.console.token')).toBe('hss_t');
      expect(store.has('handset.token')).toBe(false);
    });

  it('refuses an agent on the form, ends the session it got, keeps the e-mail', async () => {
    const { calls, store } = await consoleFor('agent');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'Sign-in failed: the console is for owners and administrators; agents use the web phone',
    );
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(calls).toContain('POST /api/v1/auth/logout');
    expect(store.has('handset.console.token')).toBe(false);
    expect(screen.getByLabelText<HTMLInputElement>('Email').value).toBe('agent@example.com');
  });
});
