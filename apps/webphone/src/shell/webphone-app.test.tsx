// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebphoneController } from '../state/webphone-controller.js';
import { FakeCall, FakePhone, fakeConfig, fakeDeps } from '../testing/fake-phone.js';
import { WebphoneApp } from './webphone-app.js';

/** What a secure context (HTTPS or localhost) has: calls can get a microphone. */
function secureContext(secure: boolean) {
  vi.stubGlobal('isSecureContext', secure);
  Object.defineProperty(window.navigator, 'mediaDevices', {
    configurable: true,
    value: secure ? { getUserMedia: () => Promise.reject(new Error('no devices in tests')) } : undefined,
  });
}

async function signedIn(flags: Parameters<typeof fakeConfig>[0] = {}, secure = true) {
  secureContext(secure);
  const phone = new FakePhone();
  const controller = new WebphoneController(fakeDeps(phone, fakeConfig(flags)));
  await controller.start();
  render(<WebphoneApp controller={controller} />);
  return { phone, controller };
}

describe('the web phone over the SDK events', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it('shows the registration and the calls as the SDK reports them, and acts on the call it shows', async () => {
    const { phone } = await signedIn();
    expect(screen.getByRole('status').textContent).toBe('Not registered');
    await act(() => phone.setRegistration('registered'));
    expect(screen.getByRole('status').textContent).toBe('Registered');
    expect(screen.getByRole('navigation')).toBeTruthy();

    const call = new FakeCall('c1', 'incoming', 'sip:1002@example.com', 'Bob', 'ringing');
    await act(() => phone.add(call));
    expect(screen.getByRole('heading', { name: 'Bob (1002)' })).toBeTruthy();
    expect(screen.getAllByRole('status').map((s) => s.textContent)).toContain('Incoming call');
    expect(screen.queryByRole('navigation')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Answer' }));
    expect(call.answer).toHaveBeenCalledWith({ video: false });

    await act(() => call.moveTo('active'));
    expect(screen.getAllByRole('status').some((s) => s.textContent?.startsWith('Connected'))).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Mute' }));
    expect(call.mute).toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Keypad' }));
    fireEvent.click(screen.getByRole('button', { name: '5' }));
    expect(call.sendDTMF).toHaveBeenCalledWith('5');

    await act(() => phone.end(call, { by: 'remote', cause: 'Terminated', failed: false }));
    expect(screen.getByLabelText('Number')).toBeTruthy();
    expect(screen.getByRole('navigation')).toBeTruthy();
  });

  it('says why an outgoing call failed: busy, not found, media not possible', async () => {
    const { phone } = await signedIn();
    for (const [statusCode, words] of [
      [486, 'Call failed: busy'],
      [404, 'Call failed: number not found'],
      [488, 'Call failed: media not possible (no common codec, or no media relay to connect the two phones)'],
    ] as const) {
      fireEvent.input(screen.getByLabelText('Number'), { target: { value: '1002' } });
      fireEvent.click(screen.getByRole('button', { name: 'Call' }));
      await waitFor(() => expect(screen.getAllByRole('status').map((s) => s.textContent)).toContain('Calling…'));
      const call = phone.calls[phone.calls.length - 1]!;
      await act(() => phone.end(call, { by: 'remote', cause: 'SIP Failure Code', statusCode, failed: true }));
      expect(screen.getAllByRole('status').map((s) => s.textContent)).toContain(words);
    }
  });

  it('Do not disturb declines a direct call with 486 and never shows it', async () => {
    const { phone, controller } = await signedIn({ agent: true });
    await controller.user.value!.agent.set('dnd');
    const call = new FakeCall('c2', 'incoming', 'sip:1003@example.com', undefined, 'ringing');
    phone.calls.push(call);
    phone.emit('incoming', call);
    expect(call.reject).toHaveBeenCalledWith(486);
  });

  it('the dialpad keeps dialable characters only; *#0*# switches SIP logging and clears the number', async () => {
    const { controller } = await signedIn();
    const log = vi.spyOn(controller.d, 'log');
    fireEvent.input(screen.getByLabelText('Number'), { target: { value: '+1 (555) 010-0199' } });
    expect(screen.getByLabelText<HTMLInputElement>('Number').value).toBe('+1555010-0199');
    fireEvent.input(screen.getByLabelText('Number'), { target: { value: '*#0*#' } });
    expect(log).toHaveBeenCalledWith('[handset] SIP logging on');
    expect(screen.getByLabelText<HTMLInputElement>('Number').value).toBe('');
  });
});

describe('a page opened from a non-secure origin', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it('says calls need HTTPS and how to fix it, instead of hanging on "Calling…"', async () => {
    const { phone } = await signedIn({}, false);
    const notice = screen.getByRole('alert');
    expect(notice.textContent).toMatch(/^Calls need HTTPS: this page was opened from .*HANDSET_TLS=self-signed/);
    fireEvent.input(screen.getByLabelText('Number'), { target: { value: '1002' } });
    fireEvent.click(screen.getByRole('button', { name: 'Call' }));
    expect(phone.call).not.toHaveBeenCalled();
    expect(screen.getAllByRole('status').some((s) => s.textContent?.startsWith('Calls need HTTPS'))).toBe(true);
  });
});
