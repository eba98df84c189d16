import { WebphoneApp } from './webphone-app.js';

declare const HANDSET_BUILD_UUID: string;

/** Registers the service worker and turns a waiting update into the app's update prompt. */
async function registerServiceWorker(app: WebphoneApp): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  try {
    const reg = await navigator.serviceWorker.register('sw.js', { scope: './' });
    let wanted = false;
    const offer = (w: ServiceWorker) =>
      app.offerUpdate(() => {
        wanted = true;
        w.postMessage({ type: 'skip-waiting' });
      });
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        // Only an update (a controller exists) is offered; the first install just caches the shell.
        if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w);
      });
    });
    // A phone tab stays open for days: look for a new version whenever it comes back into view,
    // and hourly (browsers check by themselves only on navigation).
    const check = () => void reg.update().catch(() => undefined);
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check());
    setInterval(check, 3_600_000);
    // The new worker took over because the user asked: load the new shell.
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (wanted) location.reload();
    });
    return reg;
  } catch {
    return undefined;
  }
}

const root = document.getElementById('app') ?? document.body;
let registration: Promise<ServiceWorkerRegistration | undefined> = Promise.resolve(undefined);
const app = new WebphoneApp({
  root,
  storage: localStorage,
  apiBase: new URL('api/v1', location.href.replace(/[^/]*$/, '')).pathname,
  ringtoneUrl: 'ringtone.wav',
  buildUuid: HANDSET_BUILD_UUID,
  serviceWorker: () => registration,
  // eslint-disable-next-line no-console -- the *#0*# debug switch logs to the browser console by design
  log: (...a) => console.info(...a),
});
registration = registerServiceWorker(app);
(window as unknown as { __handsetWebphone: unknown }).__handsetWebphone = app.testHook();
void app.start();
