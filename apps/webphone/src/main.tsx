import { render } from 'preact';
import { registerServiceWorker } from '@handset/ui';
import { WebphoneApp } from './shell/webphone-app.js';
import { sdkLoader } from './state/sdk-loader.js';
import { WebphoneController } from './state/webphone-controller.js';
import { testHook } from './test-hook.js';

declare const HANDSET_BUILD_UUID: string;

// The SDK chunk downloads now, beside the first API requests (the sign-in screen needs none of it).
const loadSdk = sdkLoader();
void loadSdk().catch(() => undefined);
const controller = new WebphoneController({
  loadSdk,
  win: window,
  storage: localStorage,
  apiBase: new URL('api/v1', location.href.replace(/[^/]*$/, '')).pathname,
  ringtoneUrl: 'ringtone.wav',
  buildUuid: HANDSET_BUILD_UUID,
  serviceWorker: registerServiceWorker('sw.js'),
  // eslint-disable-next-line no-console -- the *#0*# debug switch logs to the browser console by design
  log: (...a) => console.info(...a),
});
(window as unknown as { __handsetWebphone: unknown }).__handsetWebphone = testHook(controller);
render(<WebphoneApp controller={controller} />, document.getElementById('app') ?? document.body);
void controller.start();
