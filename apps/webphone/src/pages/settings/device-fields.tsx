import { useEffect, useState } from 'preact/hooks';
import type { MediaDevice, Phone } from '@handset/sdk';
import { errorText } from '@handset/ui';
import { useController, useT } from '../../shell/controller-context.js';

const ROLES = [
  ['microphone', 'microphone'],
  ['camera', 'camera'],
  ['speaker', 'speaker'],
  ['ringer', 'speaker'],
] as const;

/** Microphone, camera, speaker and ringer choices (labels appear once a permission is granted). */
export function DeviceFields(p: { phone: Phone | undefined }) {
  const c = useController();
  const t = useT();
  const [devices, setDevices] = useState<MediaDevice[]>([]);
  const [, redraw] = useState(0);
  useEffect(() => {
    void p.phone?.devices
      .list()
      .then(setDevices)
      .catch(() => undefined);
  }, [p.phone]);
  const selected = p.phone?.devices.selected;
  return (
    <div class="devices">
      {ROLES.map(([role, kind]) => (
        <div class="field">
          <label for={`dev-${role}`}>{t(role)}</label>
          <select
            id={`dev-${role}`}
            value={selected?.[role] ?? ''}
            onChange={(e) =>
              void p.phone?.devices
                .select(role, e.currentTarget.value || undefined)
                .then(() => redraw((n) => n + 1))
                .catch((err: unknown) => c.toasts.show(errorText(err)))
            }
          >
            <option value="">{t('systemDefault')}</option>
            {devices
              .filter((d) => d.kind === kind)
              .map((d) => (
                <option value={d.id}>{d.label || d.id.slice(0, 8)}</option>
              ))}
          </select>
        </div>
      ))}
    </div>
  );
}
