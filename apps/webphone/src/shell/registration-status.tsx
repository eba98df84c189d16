import { RegistrationState } from '../state/sdk-states.js';
import type { PhoneStore } from '../state/phone-store.js';
import { useT } from './controller-context.js';

/** "Registered", "Connecting…" or "Not registered", as the SDK reports it. */
export function RegistrationStatus(p: { store: PhoneStore | undefined }) {
  const t = useT();
  const s = p.store?.registration.value ?? RegistrationState.Unregistered;
  const text =
    s === RegistrationState.Registered
      ? t('registered')
      : s === RegistrationState.Registering
        ? t('connecting')
        : t('unregistered');
  return (
    <span class={`reg reg-${s}`} role="status" title={text}>
      {text}
    </span>
  );
}
