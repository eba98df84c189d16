/** The third-party page that embeds the phone with `Handset.mount`, driven from Node as `window.parentPage`. */
import type * as HandsetSdk from '../../../../packages/sdk/src/index.js';
import type { ParentDriver } from './driver-api.js';

const H = (window as unknown as { Handset: typeof HandsetSdk }).Handset;
let phone: HandsetSdk.EmbeddedPhone | undefined;
const log: string[] = [];

const need = () => {
  if (!phone) throw new Error('mount first');
  return phone;
};

const driver: ParentDriver = {
  async mount(src) {
    const box = document.createElement('div');
    document.body.appendChild(box);
    const p = await H.mount(box, { src, timeoutMs: 10_000 });
    phone = p;
    p.on('registration', (e) => log.push(`registration:${e.state}`));
    p.on('incoming', (c) => log.push(`incoming:${c.id}`));
    p.on('call', (c) => log.push(`call:${c.state}`));
    p.on('cdr', (r) => log.push(`cdr:${String(r.callId)}:${String(r.durationS)}`));
    p.on('dtmf', (d) => log.push(`dtmf:${d.tone}`));
  },
  configure: (server, uri, password) => need().configure({ server, uri, password }),
  register: () => need().register(),
  call: (target) => need().call(target),
  sendDTMF: (tones) => need().sendDTMF(tones, { transport: 'info' }),
  hangup: () => need().hangup(),
  getState: () => need().getState(),
  events: () => [...log],
  addForger(src) {
    return new Promise((resolve) => {
      const onDone = (ev: MessageEvent) => {
        if ((ev.data as { forgerDone?: boolean } | null)?.forgerDone !== true) return;
        window.removeEventListener('message', onDone);
        resolve();
      };
      window.addEventListener('message', onDone);
      const f = document.createElement('iframe');
      f.src = src;
      document.body.appendChild(f);
    });
  },
};

(window as unknown as { parentPage: ParentDriver }).parentPage = driver;
