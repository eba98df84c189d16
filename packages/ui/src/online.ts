import { signal, type ReadonlySignal } from '@preact/signals';

/** `navigator.onLine` as a signal, updated by the window's online/offline events. */
export function onlineSignal(win: Window): ReadonlySignal<boolean> {
  const s = signal(win.navigator.onLine);
  win.addEventListener('online', () => (s.value = true));
  win.addEventListener('offline', () => (s.value = false));
  return s;
}
