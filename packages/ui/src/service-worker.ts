import { signal, type ReadonlySignal } from '@preact/signals';

/** The app's service worker: its registration, and the update waiting for the user's go-ahead. */
export interface ServiceWorkerHandle {
  readonly registration: Promise<ServiceWorkerRegistration | undefined>;
  /** Set when a new version is installed and waiting; calling it activates it and reloads. */
  readonly update: ReadonlySignal<(() => void) | undefined>;
}

/**
 * Registers `url` and turns a waiting update into {@link ServiceWorkerHandle.update}. A tab stays
 * open for days: a new version is looked for whenever it comes back into view, and hourly
 * (browsers check by themselves only on navigation). The page reloads only when the user asked.
 */
export function registerServiceWorker(url: string, scope = './'): ServiceWorkerHandle {
  const update = signal<(() => void) | undefined>(undefined);
  if (!('serviceWorker' in navigator)) return { registration: Promise.resolve(undefined), update };
  const sw = navigator.serviceWorker;
  const registration = (async () => {
    try {
      const reg = await sw.register(url, { scope });
      let wanted = false;
      const offer = (w: ServiceWorker) => {
        update.value = () => {
          wanted = true;
          w.postMessage({ type: 'skip-waiting' });
        };
      };
      if (reg.waiting && sw.controller) offer(reg.waiting);
      reg.addEventListener('updatefound', () => {
        const w = reg.installing;
        w?.addEventListener('statechange', () => {
          // Only an update (a controller exists) is offered; the first install just caches the shell.
          if (w.state === 'installed' && sw.controller) offer(w);
        });
      });
      const check = () => void reg.update().catch(() => undefined);
      document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check());
      setInterval(check, 3_600_000);
      sw.addEventListener('controllerchange', () => {
        if (wanted) location.reload();
      });
      return reg;
    } catch {
      return undefined;
    }
  })();
  return { registration, update };
}
