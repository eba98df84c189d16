import { Keypad } from '../../calls/keypad.js';
import { useController, useT } from '../../shell/controller-context.js';

/**
 * The dialpad: type or paste a number (kept to dialable characters), Call or Video call. Typing
 * `*#0*#` switches SIP logging. From a page that is not a secure context it says why calls cannot work.
 */
export function DialpadPage() {
  const c = useController();
  const t = useT();
  const { ui, actions } = c;
  const number = ui.number.value;
  return (
    <section class="page dialpad">
      {c.secure ? null : (
        <p class="notice" role="alert">
          {actions.insecureText()}
        </p>
      )}
      <div class="number-row">
        <input
          id="number"
          type="tel"
          inputMode="tel"
          autocomplete="off"
          aria-label={t('number')}
          placeholder={t('number')}
          value={number}
          onInput={(e) => {
            const el = e.currentTarget;
            actions.setNumber(el.value);
            // A refused character is taken out of the field at once.
            if (el.value !== ui.number.value) el.value = ui.number.value;
          }}
          onKeyDown={(e) => e.key === 'Enter' && void actions.dial(ui.number.value)}
        />
        <button class="icon" aria-label={t('delete')} onClick={() => actions.setNumber(number.slice(0, -1))}>
          ⌫
        </button>
      </div>
      <Keypad onPress={(k) => actions.setNumber(ui.number.value + k)} />
      <div class="actions">
        <button class="primary call" onClick={() => void actions.dial(ui.number.value)}>
          {t('call')}
        </button>
        <button class="secondary" onClick={() => void actions.dial(ui.number.value, true)}>
          {t('videoCall')}
        </button>
      </div>
    </section>
  );
}
