/// <reference lib="webworker" />
/**
 * The web phone's service worker: caches the app shell so the phone opens offline (and signs in
 * again when the network is back), waits for the user's go-ahead before activating an update,
 * and focuses the phone when an incoming-call notification is tapped. API, SIP and
 * provisioning requests always go to the network.
 */
declare const self: ServiceWorkerGlobalScope;
declare const HANDSET_SHELL: string[];
declare const HANDSET_BUILD_UUID: string;

const CACHE = `handset-shell-${HANDSET_BUILD_UUID}`;
// The device console at /console/ is another app: this worker leaves it alone.
const NETWORK_ONLY = /^\/(api|client-api|sip|healthz|metrics|app|internal|console)(\/|$)/;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(HANDSET_SHELL)));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('handset-shell-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (e) => {
  if ((e.data as { type?: string } | null)?.type === 'skip-waiting') void self.skipWaiting();
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || NETWORK_ONLY.test(url.pathname)) return;
  if (e.request.mode === 'navigate') {
    // Network first for the page (a fresh index after deploys), the cached shell when offline.
    e.respondWith(fetch(e.request).catch(async () => (await caches.match('./index.html')) ?? Response.error()));
    return;
  }
  e.respondWith(caches.match(e.request).then((hit) => hit ?? fetch(e.request)));
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(async (list) => {
      const open = list[0];
      if (open) await open.focus();
      else await self.clients.openWindow('./');
    }),
  );
});
