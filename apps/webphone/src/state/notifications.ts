import type { Call } from '@handset/sdk';
import type { Translate } from '@handset/ui';
import type { MessageKey } from '../messages.js';
import { callLabel } from './call-view.js';
import { userPart } from './call-history.js';

/** The "incoming call" notification shown through the service worker while the tab is hidden. */
export class CallNotifications {
  constructor(
    private readonly registration: Promise<ServiceWorkerRegistration | undefined>,
    private readonly t: () => Translate<MessageKey>,
  ) {}

  /** Asks for the permission on the first tap (browsers refuse to ask without a gesture). */
  askOnFirstTap(doc: Document): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
    doc.addEventListener('pointerdown', () => void Notification.requestPermission().catch(() => undefined), {
      once: true,
    });
  }

  async show(c: Call): Promise<void> {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const reg = await this.registration;
    await reg
      ?.showNotification(this.t()(c.video ? 'incomingVideo' : 'incoming'), {
        body: callLabel(c.remoteDisplayName, userPart(c.remoteUri)),
        tag: `call-${c.id}`,
        icon: 'icons/icon-192.png',
        requireInteraction: true,
      })
      .catch(() => undefined);
  }

  async close(c: Call): Promise<void> {
    const reg = await this.registration;
    const open = (await reg?.getNotifications({ tag: `call-${c.id}` }).catch(() => [])) ?? [];
    for (const n of open) n.close();
  }
}
