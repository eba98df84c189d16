import { useT } from '@handset/ui';
import type { MessageKey } from '../../messages.js';

/** Devices: empty for now; the device-console issue lists provisioned phones here. */
export function DevicesPage() {
  const t = useT<MessageKey>();
  return (
    <section class="page devices">
      <h2>{t('devices')}</h2>
      <p class="empty">{t('noDevices')}</p>
    </section>
  );
}
